"""The experiment lab: every figure of chapters 4 and 6, each one module (see base.py);
``run_lab``, which runs many of them over many seeds, each job once (see lab.py); and
``run_experiment``, which runs one of them end to end (see runner.py)."""

from dlfs.experiments import (
    activation_histograms,
    batch_norm,
    batch_norm_gradcheck,
    function_surface,
    gradient_descent,
    gradient_field,
    hyperparameter_search,
    numerical_diff,
    numerical_vs_backprop,
    optimizer_compare,
    optimizer_paths,
    overfitting,
    sgd_function,
    two_layer_net,
    weight_init_compare,
)
from dlfs.experiments.base import (
    VERDICT_STATES,
    Context,
    Data,
    Experiment,
    Verdict,
    quick_settings,
    verdict_state,
)
from dlfs.experiments.lab import Failure, Request, run_lab
from dlfs.experiments.runner import ExperimentResult, run_experiment

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        numerical_diff.EXPERIMENT,
        function_surface.EXPERIMENT,
        gradient_field.EXPERIMENT,
        gradient_descent.EXPERIMENT,
        two_layer_net.EXPERIMENT,
        numerical_vs_backprop.EXPERIMENT,
        sgd_function.EXPERIMENT,
        optimizer_paths.EXPERIMENT,
        optimizer_compare.EXPERIMENT,
        activation_histograms.EXPERIMENT,
        weight_init_compare.EXPERIMENT,
        batch_norm.EXPERIMENT,
        batch_norm_gradcheck.EXPERIMENT,
        *overfitting.EXPERIMENTS,
        hyperparameter_search.EXPERIMENT,
    )
}



def is_deterministic(record: dict) -> bool:
    """Whether a record's experiment draws nothing at random (one run stands for every seed):
    as the record says, or for a record older than that field, as the experiment of its name
    is."""
    if "deterministic" in record:
        return record["deterministic"] is True
    experiment = EXPERIMENTS.get(record.get("name"))
    return experiment is not None and experiment.deterministic


__all__ = ["EXPERIMENTS", "VERDICT_STATES", "Context", "Data", "Experiment", "ExperimentResult",
           "Failure", "Request", "Verdict", "is_deterministic", "quick_settings",
           "run_experiment", "run_lab", "verdict_state"]
