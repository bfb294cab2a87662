"""Command: ``harmlens referral PERSON_ID --partner ... --purpose ...``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Optional

import typer

from harmlens.options import DbOption


def referral_cmd(
    person_id: str = typer.Argument(..., help="Person id (from 'harmlens link')."),
    partner: str = typer.Option(..., "--partner", help="probation | children_social_care | idva | health"),
    purpose: str = typer.Option(..., "--purpose", help="Why this partner needs the information (recorded)."),
    by: Optional[str] = typer.Option(None, "--by", envvar="HARMLENS_USER",
                                     help="The harmlens user making the referral (named in the pack; default: recorded as the login, not shown)."),
    out: Path = typer.Option(Path("referrals"), "--out", help="Folder for the HTML and PDF."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Information as of this date (default today)."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="HTML only."),
    db: Optional[Path] = DbOption,
) -> None:
    """Write a referral pack for a partner agency with only the fields that partner needs; the pack is recorded."""
    from harmlens.asof import check_flags
    from harmlens.referral.pack import make_pack
    from harmlens.warehouse import connect

    check_flags(**{"--as-of": as_of})
    con = connect(db, create=False)
    try:
        pack = make_pack(con, person_id, partner, purpose, made_by=by or getpass.getuser(), out_dir=out, as_of=as_of, pdf=not no_pdf,
                         shown_by=by)
    finally:
        con.close()
    typer.echo(f"pack {pack.pack_id} for {partner}: {len(pack.fields)} fields")
    for kind, path in pack.paths.items():
        typer.echo(f"  {kind}: {path}  sha256 {pack.hashes[kind]}")


def register(app: typer.Typer) -> None:
    app.command("referral")(referral_cmd)
