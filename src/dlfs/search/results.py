"""A finished study as plain data: every trial, the ranking, the best; and the top trials as a
Markdown table. (The figures are the lab's: dlfs.experiments.hyperparameter_search.)"""

from __future__ import annotations


def summarize(study) -> dict:
    """Every trial (values, curves, state, reason) and the best, as plain data."""
    from optuna.trial import TrialState

    trials = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.RUNNING, TrialState.WAITING):
            continue
        trials.append({
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value,
            "params": trial.params,
            "val_acc": trial.user_attrs.get("val_acc", []),
            "train_acc": trial.user_attrs.get("train_acc", []),
            "fail_reason": trial.user_attrs.get("fail_reason"),
            "retried_from": trial.system_attrs.get("failed_trial"),
        })
    complete = [t for t in trials if t["state"] == "COMPLETE"]
    ranked = sorted(complete, key=lambda t: -t["value"])
    return {"trials": trials, "ranking": [t["number"] for t in ranked],
            "best": ranked[0] if ranked else None}


def top_trials_markdown(summary: dict, top: int = 20) -> str:
    """The ``top`` best trials (rank, number, validation accuracy, values) as a Markdown table."""
    by_number = {t["number"]: t for t in summary["trials"]}
    names = sorted({name for t in summary["trials"] for name in t["params"]})
    lines = ["| rank | trial | val acc | " + " | ".join(names) + " |",
             "|---" * (3 + len(names)) + "|"]
    for rank, number in enumerate(summary["ranking"][:top], start=1):
        trial = by_number[number]
        params = " | ".join(f"{trial['params'][n]:.3g}" for n in names)
        lines.append(f"| {rank} | {number} | {trial['value']:.3f} | {params} |")
    return "\n".join(lines) + "\n"
