"""``harmlens synth``: write a synthetic city extract and its truth."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        people: int = typer.Option(10_000, "--people", help="Residents to generate (all ages)."),
        seed: int = typer.Option(0, "--seed", help="Random seed: same seed and options, byte-identical files."),
        out: Path = typer.Option(..., "--out", help="Output folder (created; existing files are overwritten)."),
        fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
        cut_date: str = typer.Option("2025-01-01", "--cut-date", help="Extract holds events known up to this date (YYYY-MM-DD)."),
        history_years: int = typer.Option(6, "--history-years", help="Years of history before the cut date."),
        policing_bias: bool = typer.Option(True, "--policing-bias/--no-policing-bias",
                                           help="Unequal recording intensity by group and area (on by default)."),
        stop_disparity: float = typer.Option(1.5, "--stop-disparity", help="Stop-rate multiplier, Black vs White drivers."),
        darkness_effect: float = typer.Option(1.25, "--darkness-effect",
                                              help="Odds multiplier on minority share of stops in daylight vs dark (1 = none)."),
        stops_per_1000: float = typer.Option(30.0, "--stops-per-1000", help="Yearly s163 stops per 1,000 residents (White baseline)."),
        stop_years: int = typer.Option(2, "--stop-years", help="Years before the cut date covered by stops."),
        profile: str = typer.Option("clean", "--profile", help="clean: the standard record noise; messy: plus missing dates of birth for victims "
                                    "and witnesses, common names, sons named after fathers, nicknames, transposed and mistyped fields, "
                                    "postcodes out of date (docs/link.md)."),
    ) -> None:
        """Generate a synthetic London (events, people, risk_assessments, stops, population) plus truth/."""
        from harmlens.asof import parse_as_of
        from harmlens.synth import SynthConfig, SynthError, generate

        cut = parse_as_of(cut_date, "--cut-date", error=SynthError).date()
        cfg = SynthConfig(
            people=people, seed=seed, cut_date=cut, history_years=history_years, fmt=fmt.lower(), policing_bias=policing_bias,
            stop_disparity=stop_disparity, darkness_effect=darkness_effect, stops_per_1000=stops_per_1000, stop_years=stop_years,
            profile=profile.lower(),
        )
        summary = generate(cfg, out)
        for name, n in summary.counts.items():
            typer.echo(f"{name}\t{n}")
        typer.echo(f"seconds\t{sum(summary.timings.values()):.1f}")
        typer.echo(f"written\t{summary.out_dir}")

    @app.command("synth-registers")
    def synth_registers(
        out: Path = typer.Option(..., "--out", help="Output folder (created; existing files are overwritten)."),
        people: int = typer.Option(5000, "--people", help="People to generate (in households and families)."),
        profile: str = typer.Option("link", "--profile", help="link: two sources A.csv and B.csv, no duplicates within one; dedupe: records.csv with 10% duplicates."),
        dob: str = typer.Option("year", "--dob", help="Date of birth shape: full, split (year/month/day columns), year, age (at a date) or none."),
        seed: int = typer.Option(0, "--seed", help="Random seed: same seed and options, byte-identical files."),
    ) -> None:
        """Generate registers of people in other shapes (families, names in parts, partial dates of birth) with the truth in person_id."""
        from harmlens.synth.config import SynthError
        from harmlens.synth.registers import DOB_SHAPES, PROFILES, RegisterConfig, link_map, write_registers

        if profile not in PROFILES:
            raise SynthError(f"--profile must be one of {', '.join(PROFILES)} (got {profile!r})")
        if dob not in DOB_SHAPES:
            raise SynthError(f"--dob must be one of {', '.join(DOB_SHAPES)} (got {dob!r})")
        if people < 1:
            raise SynthError("--people must be at least 1")
        paths = write_registers(RegisterConfig(people=people, seed=seed, profile=profile, dob=dob), out)
        for name, p in paths.items():
            typer.echo(f"{name}\t{p}")
        files = " ".join(str(p) for p in paths.values())
        extra = " --link-only --one-to-one" if profile == "link" else ""
        typer.echo(f"link with: harmlens link-file {files}{extra} --id record_id --map {link_map(dob)} --truth person_id")
