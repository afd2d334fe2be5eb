"""Public pages of the platform (the tender listing arrives with the tenders issue)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Home page."""
    return render_template("main/index.html")
