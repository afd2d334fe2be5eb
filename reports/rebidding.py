"""The re-bidding rounds in the results protocol: per round its lots, deadline, whom it
invited, and per position each invitee's unit price before and after the round (only the
rows that changed are listed; a round without any improvement says so)."""

from __future__ import annotations

from flask_babel import gettext as _
from reportlab.lib.units import mm

from reports import pdf

ROWS_LIMIT = 500  # a round of thousands of positions lists its first changes, then a count


def section(rounds: tuple[dict, ...], zone: str, width: float) -> list:
    """The protocol's flowables for the tender's rounds (none: nothing)."""
    if not rounds:
        return []
    story = [pdf.heading(_("Re-bidding rounds"))]
    for r in rounds:
        scope = (
            _("prices and criterion values")
            if r["scope"] == "prices_and_criteria"
            else _("prices only")
        )
        invited = ", ".join(f"{p['participant']}. {p['name']}" for p in r["invited"])
        story.append(
            pdf.facts(
                [
                    (_("Round"), str(r["number"])),
                    (_("Lots"), ", ".join(str(n) for n in r["lots"])),
                    (_("What may change"), scope),
                    (_("Announced"), pdf.local_time(r["announced_at"], zone)),
                    (
                        _("Offers until"),
                        _(
                            "%(deadline)s (originally %(original)s, extensions: %(n)s)",
                            deadline=pdf.local_time(r["deadline"], zone),
                            original=pdf.local_time(r["original_deadline"], zone),
                            n=r["extensions"],
                        ),
                    ),
                    (_("Ended"), pdf.local_time(r["closed_at"], zone) if r["closed_at"] else "—"),
                    (_("Invited"), invited),
                    (_("Improved offers"), str(r["offers"])),
                ],
                (45 * mm, width - 45 * mm),
            )
        )
        changed = [p for p in r["positions"] if p["after"] != p["before"]]
        if not changed:
            story.append(pdf.para(_("No participant lowered a price in this round."), "small"))
            continue
        rows = [
            (
                p["lot"],
                p["position"],
                p["name"],
                f"{p['participant']}. {p['organization']}",
                pdf.money(p["before"]),
                pdf.money(p["after"]),
            )
            for p in changed[:ROWS_LIMIT]
        ]
        name_w = (width - 140 * mm) * 0.5
        story.append(
            pdf.grid(
                (_("Lot"), _("Pos."), _("Name"), _("Participant"), _("Before"), _("After")),
                rows,
                (14 * mm, 18 * mm, name_w, width - 140 * mm - name_w + 48 * mm, 30 * mm, 30 * mm),
                numeric=(4, 5),
            )
        )
        if len(changed) > ROWS_LIMIT:
            more = len(changed) - ROWS_LIMIT
            story.append(pdf.para(_("… and %(n)s more changed prices.", n=more), "small"))
    return story
