"""`photocritic ava ...`: AVA metadata analysis (filled in by the AVA room)."""
import typer

ava_app = typer.Typer(help="Analyse AVA's votes, tags and challenges; export cleaned sets.", no_args_is_help=True)
