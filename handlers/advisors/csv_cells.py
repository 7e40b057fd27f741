"""CSV cells a spreadsheet opens as text, never as a formula (CSV injection). Pure: shared
by the registry export/import and the public advisor list's CSV."""

from __future__ import annotations

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection:
# "=HYPERLINK(...)" in an advisor's name). Export prefixes such cells with a quote, which
# spreadsheets show as text; import removes that one quote again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_formula(cell: str) -> bool:
    """Starts like a formula, also behind quotes ("'=x" must survive a round trip too)."""
    return cell.lstrip("'").startswith(FORMULA_STARTS)


def escape_cell(cell: object) -> object:
    """The cell as written to CSV: a quote in front of anything a spreadsheet would run."""
    return f"'{cell}" if isinstance(cell, str) and _is_formula(cell) else cell


def unescape_cell(cell: str) -> str:
    """Undo escape_cell: one leading quote goes, only where export would have added it."""
    return cell[1:] if cell.startswith("'") and _is_formula(cell) else cell
