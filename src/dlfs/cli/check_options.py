"""The options of ``dlfs check``: one file's, and a whole class's (--class, --autograder-bundle,
cli/classroom.py), and the limits they give both (``limits``). Apart from the commands
themselves, so that building the parser, which every dlfs command does, loads no checker:
``dlfs run`` never imports ``dlfs.check``."""

from __future__ import annotations

from dlfs import catalogue
from dlfs.catalogue import LANGS

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 2048  # --memory: the learner's code's address space (RLIMIT_AS)
MIN_MEMORY_MB = 256  # below this NumPy itself does not start
DEFAULT_OUT = "class-results"  # --class: where a class's results go


def add_arguments(check, lang: str) -> None:
    """Adds --class and its options to the ``dlfs check`` parser ``check``; FILE becomes
    optional there (one of FILE, --class, --autograder-bundle is needed), and the command
    goes to ``cmd_class`` when --class or --autograder-bundle is given."""
    def say(key: str, **fields) -> str:
        return catalogue.text(f"classroom.{key}", lang, **fields).replace("%", "%%")

    for action in check._actions:
        if action.dest == "file":
            action.nargs, action.default = "?", None
    # the learner's code's memory limit: one file's check, and each learner's of a class
    check.add_argument("--memory", type=float, default=DEFAULT_MEMORY_MB, metavar="MB",
                       help=catalogue.text("check.help_memory", lang,
                                           default=DEFAULT_MEMORY_MB).replace("%", "%%"))
    group = check.add_argument_group("--class")
    group.add_argument("--class", dest="class_dir", metavar="DIR|ZIP", default=None,
                       help=say("help_class"))
    group.add_argument("--out", default=DEFAULT_OUT, help=say("help_out", default=DEFAULT_OUT))
    group.add_argument("--force", action="store_true", help=say("help_force"))
    group.add_argument("--workers", type=int, default=0, help=say("help_workers"))
    group.add_argument("--rubric", default=None, metavar="RUBRIC.toml", help=say("help_rubric"))
    group.add_argument("--gradescope", default=None, metavar="RESULTS.json",
                       help=say("help_gradescope"))
    group.add_argument("--feedback-lang", choices=(*LANGS, "both"), default=None,
                       help=say("help_feedback_lang", langs=", ".join(LANGS)))
    group.add_argument("--no-progress", action="store_true", help=say("help_no_progress"))
    group.add_argument("--autograder-bundle", default=None, metavar="DIR",
                       help=say("help_bundle"))
    single = check.get_default("func")

    def dispatch(args) -> int:
        if args.autograder_bundle is not None or args.class_dir is not None:
            from dlfs.cli import classroom  # here: a parser built for dlfs run loads no checker

            return (classroom.cmd_bundle if args.autograder_bundle is not None
                    else classroom.cmd_class)(args)
        if args.file is None:
            from dlfs.cli.text import CliError
            from dlfs.cli.text import say as say_in

            raise CliError(say_in("classroom.need_file", args.lang))
        return single(args)

    check.set_defaults(func=dispatch)


def limits(args) -> tuple[float, int]:
    """(--timeout in seconds, --memory in bytes) of a check, one file's or a class's; a CliError
    for a timeout not above 0 or a memory below MIN_MEMORY_MB."""
    from dlfs.cli.text import CliError
    from dlfs.cli.text import say as say_in

    if not args.timeout > 0:
        raise CliError(say_in("check.bad_timeout", args.lang, value=f"{args.timeout:g}"))
    if not args.memory >= MIN_MEMORY_MB:
        raise CliError(say_in("check.bad_memory", args.lang, value=f"{args.memory:g}"))
    return args.timeout, int(args.memory * 2**20)
