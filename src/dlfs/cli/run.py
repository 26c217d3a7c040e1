"""dlfs run, list and data: the arguments of a run made into one request for the lab
(dlfs.experiments.run_lab), and what it yields printed and written to --out."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from pathlib import Path

from dlfs import catalogue
from dlfs._said import said_in
from dlfs.cli.results import FULL_OUT, QUICK_OUT, refuse_quick_over_full, verdict_words
from dlfs.cli.text import CliError, did_you_mean, os_reason
from dlfs.cli.text import say as _say
from dlfs.data.lab import DATASET_CHOICES
from dlfs.io import (
    FolderBusy,
    atomic_dir,
    atomic_file,
    folder_lock,
    remove_leftovers,
    writable_folder,
    write_text,
)

# -- data -----------------------------------------------------------------------------------


def load_lab_data(dataset: str, root, lang: str = "en", quiet: bool = False):
    """dlfs.data.load_lab_data, a substitute data set said in ``lang`` and a failure turned
    into a CliError."""
    from dlfs.data import DatasetError
    from dlfs.data import load_lab_data as load
    from dlfs.data.locations import source_in

    try:
        data = load(dataset, root, progress=not quiet)
    except DatasetError as error:
        raise CliError(error.text(lang)) from None
    if data.substitute_for and not quiet:
        print("dlfs: " + catalogue.text("cli.data_note", lang, wanted=data.substitute_for,
                                        used=data.title, source=source_in(data.source, lang)),
              file=sys.stderr)
    return data


# -- what a run changes: settings (--set, --config) and the data set (--dataset) ---------------


# The keys of a --config file that set the run itself, not an experiment, with their defaults
# (docs/gen_pages.py lists them; the command line's option of the same name wins).
RUN_KEYS = {"formats": ["png"]}


def read_config(args) -> tuple[dict, dict]:
    """The --config file's keys (none without --config): (the experiments' settings, the
    run's own keys of RUN_KEYS)."""
    from dlfs.experiments import settings

    try:
        given = settings.read_settings(args.config) if args.config else {}
    except settings.SettingError as error:
        raise CliError(f"--config {said_in(error, args.lang)}") from None
    return given, {key: given.pop(key) for key in RUN_KEYS if key in given}


def run_overrides(args, experiments: list, given: dict | None = None) -> dict[str, dict]:
    """The --config file's settings (``given``, else read from --config), then --set's (which
    win), checked against the named experiments' parameters before anything runs:
    {experiment name: its overrides}. Prints which experiments each setting applies to."""
    from dlfs.experiments import settings

    given = dict(read_config(args)[0] if given is None else given)
    try:
        given.update(settings.parse_setting(item) for item in args.set)
    except settings.SettingError as error:
        raise CliError(said_in(error, args.lang)) from None
    # explore = true (--config, --set): the report's finer grids, as --explore asks
    explore = given.pop("explore", False)
    if not isinstance(explore, bool):
        raise CliError(catalogue.text("live.explore_wrong", args.lang,
                                      value=settings.as_toml(explore)))
    args.explore = getattr(args, "explore", False) or explore
    try:
        chosen = settings.settings_for(experiments, given, args.quick)
    except settings.SettingError as error:
        raise CliError(said_in(error, args.lang)) from None
    for key in given:
        which = [e for e in experiments if settings.accepts(e, key)]
        spelled = settings.canonical(which[0], key)  # optimizers.sgd.lr: optimizers.SGD.lr
        value = json.dumps(chosen[which[0].name][spelled], ensure_ascii=False)
        print(catalogue.text("settings.applies", args.lang, setting=spelled, value=value,
                             names=", ".join(e.name for e in which)), flush=True)
    return chosen


def add_learner_optimizers(args, experiments: list, overrides: dict[str, dict]) -> None:
    """--optimizer NAME=FILE::CLASS[:lr=…]: each learner's optimizer joins the "optimizers" of
    the experiments that compare update rules, in ``overrides``. The learner's file runs now,
    so a missing file or class stops the run before anything ran."""
    from dlfs.experiments import learner

    if not args.optimizer:
        return
    chosen = [e for e in experiments if e.name in learner.EXPERIMENTS]
    if not chosen:
        raise CliError(_say("errors.optimizer_where", args.lang,
                            experiments=", ".join(learner.EXPERIMENTS)))
    try:
        added = [learner.resolve(spec) for spec in args.optimizer]
    except learner.LearnerError as error:
        raise CliError(said_in(error, args.lang)) from None
    for experiment in chosen:
        changed = overrides[experiment.name]
        optimizers = dict(experiment.parameters(args.quick, changed)["optimizers"])
        for label, entry in added:
            if label in optimizers:
                raise CliError(_say("errors.optimizer_twice", args.lang, label=label,
                                    experiment=experiment.name))
            optimizers[label] = entry
        changed["optimizers"] = optimizers


def run_data(args, request):
    """The data set of --dataset, loaded once, where a job of ``request`` reads it (else None);
    the learner's own (a folder or an .npz) is checked whatever the experiments."""
    from dlfs.experiments.lab import needs_data

    if args.dataset not in DATASET_CHOICES:
        if not Path(args.dataset).exists():
            raise CliError(f"--dataset {args.dataset!r}: choose {', '.join(DATASET_CHOICES)}, "
                           "or give a folder of MNIST-layout IDX files or an .npz file that "
                           "exists")
        if args.data_root is not None:
            raise CliError(f"--data-root is where the named data sets are looked for; "
                           f"--dataset {args.dataset} is read where it is, so leave --data-root "
                           "out")
    if not needs_data(request):
        return None
    return load_lab_data(args.dataset, args.data_root, args.lang)


def run_formats(args, configured=None) -> tuple[str, ...]:
    """--formats, else the --config file's ``formats`` (``configured``: a list, or one text
    separated by commas), else png: png and svg, in any order and combination."""
    from dlfs.experiments.lab import FORMATS

    if args.formats is None and configured is not None:
        listed = configured if isinstance(configured, list) else [configured]
        texts = all(isinstance(each, str) for each in listed)
        formats = _formats(listed) if texts else ()
        if not formats or any(f not in FORMATS for f in formats):
            from dlfs.experiments.settings import as_toml

            raise CliError(_say("lab_run.config_formats_wrong", args.lang, path=args.config,
                                value=as_toml(configured), formats=", ".join(FORMATS)))
        return formats
    given = "png" if args.formats is None else args.formats
    formats = _formats([given])
    if not formats or any(f not in FORMATS for f in formats):
        raise CliError(_say("lab.formats_wrong", args.lang, value=given,
                            formats=", ".join(FORMATS)))
    return formats


def _formats(texts: list[str]) -> tuple[str, ...]:
    """The formats named in ``texts``, each a name or several separated by commas, in lower
    case, each once (unchecked)."""
    return tuple(dict.fromkeys(f.strip().lower() for text in texts for f in text.split(",")))


def _with_png(formats: tuple[str, ...]) -> tuple[str, ...]:
    """``formats`` with png first: the report and dlfs show read each figure's PNG."""
    return ("png", *(f for f in formats if f != "png"))


# -- writing results --------------------------------------------------------------------------


def _writable(out: Path, lang: str = "en") -> Path:
    try:
        return writable_folder(out)
    except OSError as error:
        raise CliError(_say("errors.not_writable", lang, out=out,
                            reason=os_reason(error, lang))) from None


def _save_figure(fig, folder: Path, stem: str, formats=("png", "svg")) -> dict[str, str]:
    """Writes ``fig`` as STEM.png (and STEM.svg, …) in ``folder`` and closes it; returns the
    names."""
    from dlfs.experiments import figures
    from dlfs.experiments.lab import render

    names = _save_rendered(render(fig, formats), folder, stem)
    figures.close(fig)
    return names


def _save_rendered(rendered: dict[str, bytes], folder: Path, stem: str) -> dict[str, str]:
    names = {fmt: f"{stem}.{fmt}" for fmt in rendered}
    for fmt, name in names.items():
        with atomic_file(folder / name) as handle:
            handle.write(rendered[fmt])
    return names


def _keep_drawn(earlier: Path, folder: Path, stem: str, formats) -> dict[str, str]:
    """The figure files STEM.FORMAT of formats other than ``formats`` that ``earlier`` (the
    folder being replaced) holds, copied into ``folder``: {format: name}. Only regular
    files, never a link."""
    from dlfs.experiments.lab import FORMATS

    kept = {}
    for fmt in FORMATS:
        name = f"{stem}.{fmt}"
        try:
            if fmt in formats or not stat.S_ISREG(os.lstat(earlier / name).st_mode):
                continue
            content = (earlier / name).read_bytes()
        except OSError:  # not there (or gone meanwhile): nothing to keep
            continue
        with atomic_file(folder / name) as handle:
            handle.write(content)
        kept[fmt] = name
    return kept


def write_result(result, out: Path, formats=("png",), keep_drawn: bool = False) -> dict:
    """Writes one experiment's result into out/NAME/ (results.json, figure.{en,ko}.png and
    the other ``formats``) in one swap, so no half-written result is ever seen; returns the
    record as saved. The figures are ``result.rendered`` where the lab rendered them, else
    ``result.figures`` saved in ``formats``, and in PNG where no PNG is kept.
    ``keep_drawn`` (--replot): the figure files of the other formats that out/NAME/ holds
    stay, and the record lists them (--replot --formats svg adds SVG files beside the PNG
    files drawn before)."""
    from dlfs.experiments.lab import FORMATS

    record = result.record
    earlier = out / record["name"]
    with atomic_dir(earlier) as folder:
        if result.rendered:
            files = {lang: _save_rendered(rendered, folder, f"figure.{lang}")
                     for lang, rendered in result.rendered.items()}
        else:
            files = {}
            for lang, fig in result.figures.items():
                kept = (_keep_drawn(earlier, folder, f"figure.{lang}", formats)
                        if keep_drawn else {})
                drawn = _save_figure(fig, folder, f"figure.{lang}",
                                     formats if "png" in kept else _with_png(formats))
                both = {**kept, **drawn}
                files[lang] = {fmt: both[fmt] for fmt in FORMATS if fmt in both}
        saved = {**record, "figures": {lang: {**files[lang], **record["figures"][lang]}
                                       for lang in files}}
        write_text(folder / "results.json", json.dumps(saved, ensure_ascii=False, indent=1))
    return saved


# -- commands -------------------------------------------------------------------------------


def _resolve_names(names: list[str], lang: str = "en") -> list:
    from dlfs.experiments import EXPERIMENTS

    if not names:
        raise CliError(_say("errors.no_names", lang))
    if "all" in names:
        return list(EXPERIMENTS.values())
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise CliError(_say("errors.unknown_experiment", lang, name=unknown[0],
                            hint=did_you_mean(unknown[0], EXPERIMENTS, lang),
                            names=", ".join(EXPERIMENTS)))
    return [EXPERIMENTS[name] for name in dict.fromkeys(names)]


@contextlib.contextmanager
def _only_writer(out: Path, lang: str = "en"):
    """Holds the lock on ``out`` for one run (a second run into it is refused at once), and
    first removes what a killed run left there: its hidden half-written result folders and
    temporary files, and a ``.NAME.old`` it had not yet removed."""
    from dlfs.experiments import EXPERIMENTS

    try:
        with folder_lock(out):
            remove_leftovers(out, [*EXPERIMENTS, "run.json"])
            yield out
    except FolderBusy:
        raise CliError(_say("outputs.busy", lang, out=out)) from None


def _out_folder(args) -> Path:
    default = QUICK_OUT if args.quick else FULL_OUT
    if args.out is None:
        return Path(default)
    if not args.out.strip():
        raise CliError(_say("outputs.empty_out", args.lang, default=default))
    return Path(args.out)


def run_seeds(args) -> list[int]:
    """The seeds of ``dlfs run``: --seeds' list, or its number N of seeds from --seed on
    (--seed, --seed + 1, …), else --seed alone."""
    if args.seeds is None:
        return [args.seed]
    if isinstance(args.seeds, int):
        return list(range(args.seed, args.seed + args.seeds))
    return list(args.seeds)


def run_request(args, experiments: list):
    """The lab's Request for ``dlfs run``'s arguments: settings (--config, --set), learners'
    optimizers (--optimizer), seeds, workers and figure formats, all checked before anything
    runs."""
    from dlfs.experiments import Request
    from dlfs.experiments.base import default_workers

    given, own = read_config(args)
    formats = run_formats(args, own.get("formats"))
    overrides = run_overrides(args, experiments, given)
    add_learner_optimizers(args, experiments, overrides)
    return Request(experiments, overrides, run_seeds(args), args.quick,
                   args.workers or default_workers(), formats=_with_png(formats),
                   optimizer_timeout=getattr(args, "optimizer_timeout", 300.0),
                   explore=args.explore)


def cmd_run(args) -> int:
    experiments = _resolve_names(args.names, args.lang)
    out = _out_folder(args)
    if args.replot:
        return _replot(out, args, experiments)
    from dlfs.experiments.lab import plan

    request = run_request(args, experiments)
    data = run_data(args, request)
    made = plan(request, data)  # what the lab will train, the data set's caps applied
    _say_capped(made, data, args.lang)
    if args.quick and not args.force:
        refuse_quick_over_full(experiments, out, args.lang)
    out = _writable(out, args.lang)
    from dlfs.train import time_limit_lifted

    # --force also lets a training run estimated to take over an hour go on (dlfs.train)
    with _only_writer(out, args.lang), time_limit_lifted(args.force):
        return _run_into(out, args, request, data, len(made.distinct))


def _say_capped(made, data, lang: str) -> None:
    """One line per default sample count the data set is too small for, naming both numbers:
    the run uses what exists, and its record says so (the plan ``made``'s Data.capped_defaults;
    none without a data set)."""
    for name, caps in made.capped.items():
        for setting, cap in caps.items():
            print("dlfs: " + catalogue.text("said.samples_capped", lang, experiment=name,
                                            setting=setting, default=cap["default"],
                                            used=cap["used"], title=data.title),
                  file=sys.stderr)


def _print_result(record: dict, lang: str) -> None:
    """What dlfs run prints under an experiment's first line: its time and verdict, and over
    several seeds, in how many the claim held."""
    from dlfs.experiments import verdict_state

    verdict = record["verdict"]
    print(catalogue.text("cli.result_line", lang, seconds=record["wall_time_s"],
                         verdict=verdict_words(record, lang),
                         detail=verdict["detail"][lang]), flush=True)
    if verdict_state(verdict) == "not_judged":
        print(_say("output.not_judged_line", lang), flush=True)
    seeds = record.get("seeds", [record["seed"]])
    if len(seeds) > 1 and record.get("deterministic"):
        print(catalogue.text("cli.seeds_deterministic", lang, count=len(seeds)), flush=True)
    elif len(seeds) > 1:
        failed = [str(run["seed"]) for run in verdict["seeds"]
                  if not run["held"] and run["judged"]]
        unjudged = [str(run["seed"]) for run in verdict["seeds"] if not run["judged"]]
        key = ("cli.seeds_failed" if failed else "cli.seeds_held" if not unjudged else
               "cli.seeds_none_judged" if verdict["of"] == 0 else "cli.seeds_unjudged")
        print(catalogue.text(key, lang, seeds=", ".join(map(str, seeds)),
                             held_in=verdict["held_in"], of=verdict["of"],
                             failed=", ".join(failed), unjudged=", ".join(unjudged)), flush=True)


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended and were waited for."""
    try:
        import resource
    except ImportError:  # Windows
        return time.process_time()
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


@contextlib.contextmanager
def _jobs_bar(jobs: int):
    """A bar of the run's distinct jobs ended, on stderr where it is a terminal (else None);
    the lab forks its workers while it is shown."""
    from dlfs._progress import progress_bar

    bar = progress_bar(jobs, jobs > 1 and sys.stderr.isatty(), unit="job", forks=True)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


def _print_outcome(outcome, done: dict, failures: list, out: Path, count: int,
                   lang: str) -> None:
    """One experiment's end, as the lab yields it: a Failure said on stderr, or a result
    written into ``out`` and printed; added to ``failures`` or ``done``."""
    from dlfs.experiments import Failure

    index = len(done) + len(failures) + 1  # [k/n]: the k-th to end
    if isinstance(outcome, Failure):
        failures.append(outcome)
        key = "lab.failed" if "\n" in outcome.error.strip() else "lab.failed_line"
        print(_say(key, lang, index=index, count=count, name=outcome.name,
                   seeds=", ".join(map(str, outcome.seeds)), error=outcome.error.rstrip()),
              file=sys.stderr, flush=True)
        return
    record = write_result(outcome, out)
    print(catalogue.text("cli.run_line", lang, index=index, count=count, name=record["name"],
                         title=record["title"][lang]), flush=True)
    _print_result(record, lang)
    done[record["name"]] = record


def _run_into(out: Path, args, request, data, jobs: int) -> int:
    """The lab's run of ``request``, each experiment printed and written as it ends; run.json
    last. A failed experiment is said with its seeds and error, and the others go on; the
    status is then 1. ``jobs``: how many distinct jobs the lab trains (the bar's length)."""
    from dlfs._progress import set_aside
    from dlfs.experiments import VERDICT_STATES, figures, run_lab, verdict_state
    from dlfs.experiments.lab import JobDone

    if figures.korean_font() is None:
        print("dlfs: " + catalogue.text("cli.no_font", args.lang), file=sys.stderr)
    print(_say("lab.starting", args.lang, count=len(request.experiments),
               jobs=jobs, workers=request.workers), flush=True)
    total_start, cpu_start = time.perf_counter(), _cpu_seconds()
    done: dict[str, dict] = {}
    failures: list = []
    names = [experiment.name for experiment in request.experiments]
    with _jobs_bar(jobs) as bar:
        for outcome in run_lab(request, data, job_events=bar is not None):
            if isinstance(outcome, JobDone):  # a distinct job ended: the bar moves
                bar.update()
                continue
            with set_aside(bar):
                _print_outcome(outcome, done, failures, out, len(names), args.lang)
    records = [done[name] for name in names if name in done]  # run.json: in the order asked
    total = time.perf_counter() - total_start
    states = [verdict_state(r["verdict"]) for r in records]
    counts = {state: states.count(state) for state in VERDICT_STATES}
    write_text(out / "run.json", json.dumps({
        "experiments": [{"name": r["name"], "verdict": state, "held": r["verdict"]["held"],
                         "judged": r["verdict"]["judged"], "held_in": r["verdict"]["held_in"],
                         "of": r["verdict"]["of"], "wall_time_s": r["wall_time_s"]}
                        for r, state in zip(records, states)],
        "failed": [{"name": f.name, "seeds": f.seeds} for f in failures],
        "verdicts": counts,
        "total_wall_time_s": round(total, 3),
        # This process's CPU time and its workers' (the pool's, ended and waited for by now).
        "total_cpu_time_s": round(_cpu_seconds() - cpu_start, 3), "quick": args.quick,
        "seed": request.seeds[0], "seeds": request.seeds, "workers": request.workers,
        "formats": list(request.formats),
        "dataset": next((r["dataset"] for r in records if r["dataset"]), None)}, indent=1))
    summary = "output.summary_not_judged" if counts["not_judged"] else "cli.summary"
    print(_say(summary, args.lang, count=len(records), seconds=total, held=counts["held"],
               not_held=counts["not_held"], not_judged=counts["not_judged"], out=out))
    return 1 if failures else 0


def _replot(out: Path, args, experiments: list) -> int:
    """dlfs run NAME… --replot: each experiment's figures and verdict drawn again from the
    results.json saved in --out, nothing trained; a missing or unreadable one is an error
    before anything is written."""
    from dlfs.experiments import figures
    from dlfs.experiments.runner import replot
    from dlfs.records import RecordError, load_record

    given = [option for option, value in (("--seeds", args.seeds), ("--set", args.set),
                                          ("--config", args.config),
                                          ("--optimizer", args.optimizer)) if value]
    if given:
        raise CliError(_say("errors.replot_with", args.lang, option=given[0]))
    formats = run_formats(args)
    records = {}
    for experiment in experiments:
        path = out / experiment.name / "results.json"
        if not path.exists() and not path.is_symlink():
            raise CliError(_say("errors.no_result", args.lang, name=experiment.name, out=out))
        try:
            records[experiment.name] = load_record(path)
        except RecordError as error:
            raise CliError(error.message(args.lang)) from None
    if figures.korean_font() is None:
        print("dlfs: " + catalogue.text("cli.no_font", args.lang), file=sys.stderr)
    out = _writable(out, args.lang)
    with _only_writer(out, args.lang):
        for i, experiment in enumerate(experiments, start=1):
            try:
                result = replot(experiment, records[experiment.name])
            except (KeyError, TypeError, ValueError) as error:
                raise CliError(_say("errors.replot_failed", args.lang, name=experiment.name,
                                    path=out / experiment.name / "results.json",
                                    error=error)) from None
            record = write_result(result, out, formats, keep_drawn=True)
            print(catalogue.text("cli.replot_line", args.lang, index=i,
                                 count=len(experiments), name=experiment.name,
                                 title=record["title"][args.lang]), flush=True)
            _print_result(record, args.lang)
    return 0


def cmd_list(args) -> int:
    from dlfs.experiments import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        data = catalogue.text("cli.needs_data", args.lang) if experiment.needs_data else ""
        print(catalogue.text("cli.list_line", args.lang, name=experiment.name,
                             chapter=experiment.chapter, section=experiment.section,
                             title=experiment.texts(experiment.params)["title"][args.lang],
                             data=data))
    return 0


def cmd_data(args) -> int:
    from dlfs.data import DATASETS, DatasetError, describe_location, download, find_dataset
    from dlfs.data.datasets import download_dir, get_spec
    from dlfs.data.locations import source_in

    names = args.names or list(DATASETS)
    for name in names:
        try:
            spec = get_spec(name)
        except ValueError:
            raise CliError(_say("errors.unknown_dataset", args.lang, name=name,
                                names=", ".join(DATASETS))) from None
        location = find_dataset(spec.name, args.root)
        if location is None and args.fetch:
            try:
                download(spec.name, args.root)
            except DatasetError as error:
                raise CliError(error.text(args.lang)) from None
            location = find_dataset(spec.name, args.root)
        if location is None:
            print(_say("output.data_missing", args.lang, title=spec.title, name=spec.name,
                       folder=download_dir(spec, args.root)))
        else:
            print(_say("output.data_found", args.lang, title=spec.title,
                       where=source_in(describe_location(spec.name, location), args.lang)))
    return 0
