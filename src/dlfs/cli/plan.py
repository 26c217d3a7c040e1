"""dlfs run's plan: its experiments one after another, or two side by side.

See RunPlan; dlfs.cli.run prints what it ran, and benchmarks/side_by_side.py times both ways.
"""

from __future__ import annotations

from pathlib import Path


class RunPlan:
    """The experiments of one ``dlfs run``, run and written into --out, two side by side.

    Run one after another, each experiment spreads its own independent runs over the workers,
    and a core idles whenever one runs serially (a gradient check, one training) or has
    fewer runs left than workers. So, with more than one worker, two experiments run at a
    time, each in a forked process of its own (not a pool's) with one core, its runs one after
    another: no process then waits for a core another holds, and the search runs in its own
    process instead of starting workers. The costliest first (``Experiment.cost``), so that
    both cores stay busy to the end. Where one chain costs more than all the others together,
    side by side would leave a core idle while it runs, so then they run one after another,
    each over all the workers. No number changes: every run's numbers depend on its seed and
    parameters only, not on its worker count or process.

    Experiments of one chain (``Experiment.chain_key``, by default their module) run one after
    another: they may share work through ``Context.cache`` (overfit, weight-decay and dropout
    share a baseline; optimizer-compare's SGD run is weight-init-compare's He run), and each
    chain's cache travels from one of its experiments to the next. ``run`` yields each record
    as it is ready: in the order asked for, one after another; in the order they finish, side
    by side.
    """

    def __init__(self, experiments, overrides, seeds, quick, workers, load_data,
                 progress=False, lanes: int | None = None):
        """``lanes``: how many experiments run at a time, 1 or 2; default 2 where there is
        more than one worker, fork, and more than one chain with none costing more than the
        others together (benchmarks/side_by_side.py sets it to compare both)."""
        from dlfs.experiments.base import can_fork

        self.experiments, self.overrides, self.seeds = experiments, overrides, seeds
        self.quick, self.workers, self.load_data = quick, workers, load_data
        # Each experiment's parameters, for the Context: shared work is sized for all of them.
        self.planned = {experiment.name: experiment.parameters(quick, overrides[experiment.name])
                        for experiment in experiments}
        self.chains: dict[str, list[int]] = {}  # chain key -> its experiments' indices, in order
        for i, experiment in enumerate(experiments):
            self.chains.setdefault(experiment.chain_key, []).append(i)
        costs = [self._chain_cost(indices) for indices in self.chains.values()]
        if lanes is None:
            lanes = 2 if (workers > 1 and len(costs) > 1 and can_fork()
                          and max(costs) <= sum(costs) / 2) else 1
        if lanes not in (1, 2) or (lanes == 2 and not can_fork()):
            raise ValueError(f"lanes must be 1, or 2 where processes can fork, got {lanes}")
        self.lanes = lanes
        self.progress = progress and self.lanes == 1  # bars of two at once would garble

    def _chain_cost(self, indices) -> float:
        return sum(self.experiments[i].cost for i in indices)

    def context(self, cache: dict):
        from dlfs.experiments import Context

        workers = 1 if self.lanes == 2 else self.workers  # side by side: a core each
        return Context(seed=self.seeds[0], quick=self.quick, workers=workers,
                       load_data=self.load_data, progress=self.progress, cache=cache,
                       planned=self.planned)

    def run(self, out: Path, save, starting=lambda index, experiment: None):
        """(index, record) of each experiment as saved in ``out`` by ``save(result, out)``
        (dlfs.cli.run.write_result), each saved as soon as it ends: in the order of the
        experiments one after another, in the order they finish side by side.
        ``starting(index, experiment)`` is called before each record: when the experiment
        starts, one after another; when its record is ready, side by side."""
        from dlfs.experiments import run_experiment

        if self.lanes == 1:
            ctx = self.context({})
            for index, experiment in enumerate(self.experiments):
                starting(index, experiment)
                yield index, save(run_experiment(
                    experiment, ctx, overrides=self.overrides[experiment.name],
                    seeds=self.seeds), out)
            return
        for index, record in self._side_by_side(out, save):
            starting(index, self.experiments[index])
            yield index, record

    def _next(self, ready: list[int]) -> int:
        """Of the chains' next experiments, the one whose chain has the most work left (the
        first asked for among equals)."""
        def left(index):
            chain = self.chains[self.experiments[index].chain_key]
            return self._chain_cost(chain[chain.index(index):]), -index

        return max(ready, key=left)

    def _side_by_side(self, out: Path, save):
        import multiprocessing
        import multiprocessing.connection

        if any(experiment.needs_data for experiment in self.experiments):
            data = self.load_data()  # once, here: each process gets it by fork
            self.load_data = lambda: data
        caches = {key: {} for key in self.chains}
        ready = [indices[0] for indices in self.chains.values()]  # each chain's next experiment
        running: dict = {}  # connection -> (process, index)
        finished = 0
        context = multiprocessing.get_context("fork")
        try:
            while finished < len(self.experiments):
                while ready and len(running) < self.lanes:
                    index = self._next(ready)
                    ready.remove(index)
                    key = self.experiments[index].chain_key
                    receive, send = context.Pipe(duplex=False)
                    process = context.Process(target=self._run_one, args=(
                        index, out, save, caches[key], send), name=f"dlfs-{index}")
                    process.start()
                    send.close()
                    running[receive] = (process, index)
                for receive in multiprocessing.connection.wait(list(running)):
                    process, index = running.pop(receive)
                    try:
                        outcome = receive.recv()
                    except EOFError:  # it died without a word: killed, out of memory
                        process.join()
                        raise RuntimeError(
                            f"the process running {self.experiments[index].name} ended with "
                            f"exit code {process.exitcode}") from None
                    receive.close()
                    process.join()
                    if isinstance(outcome, BaseException):
                        raise outcome
                    record, cache = outcome
                    key = self.experiments[index].chain_key
                    caches[key] = cache
                    chain = self.chains[key]
                    if chain.index(index) + 1 < len(chain):
                        ready.append(chain[chain.index(index) + 1])
                    finished += 1
                    yield index, record
        finally:
            for process, _ in running.values():  # an error or Ctrl-C: stop the others
                process.terminate()
            for process, _ in running.values():
                process.join()

    def _run_one(self, index: int, out: Path, save, cache: dict, send) -> None:
        """In a forked process: one experiment run and written; its record and its chain's
        cache (or the error that stopped it) sent back."""
        import pickle
        import signal

        from dlfs.experiments import run_experiment

        def stop(signum, frame):  # the parent stops it: end its own pool's workers too
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, stop)
        experiment = self.experiments[index]
        try:
            ctx = self.context(cache)
            record = save(run_experiment(
                experiment, ctx, overrides=self.overrides[experiment.name],
                seeds=self.seeds), out)
            outcome = (record, ctx.cache)
        except BaseException as error:  # noqa: BLE001  raised again in the parent
            outcome = error
        try:
            pickle.loads(pickle.dumps(outcome))
        except Exception:  # noqa: BLE001  an error that does not travel between processes
            outcome = RuntimeError(f"{type(outcome).__name__}: {outcome}")
        send.send(outcome)
        send.close()
