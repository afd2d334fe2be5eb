/*
 * The category tree of the tender editor: a filter box that shows only the categories whose
 * code or name contains the typed text (and opens their sections). No inline script: CSP.
 */
(function () {
  "use strict";

  function fold(text) {
    return text.toLowerCase().replace(/ё/g, "е");
  }

  function apply(tree, query) {
    const q = fold(query.trim());
    tree.querySelectorAll("details").forEach((section) => {
      let any = false;
      section.querySelectorAll("li").forEach((li) => {
        const own = li.querySelector(":scope > label");
        const hit = !q || fold(own.textContent).includes(q);
        const childHit = Array.from(li.querySelectorAll("li > label")).some(
          (l) => !q || fold(l.textContent).includes(q)
        );
        li.classList.toggle("hidden", !(hit || childHit));
        any = any || hit || childHit;
      });
      const summaryHit = !q || fold(section.querySelector("summary").textContent).includes(q);
      section.classList.toggle("hidden", !(any || summaryHit));
      if (q) section.open = any;
    });
  }

  function start() {
    document.querySelectorAll(".category-tree").forEach((tree) => {
      const input = tree.querySelector(".tree-filter");
      if (!input) return;
      let timer = null;
      input.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => apply(tree, input.value), 120);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
