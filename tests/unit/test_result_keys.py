"""Where a step's result is stored."""

from __future__ import annotations

from pagemill.domain.models import StepRef
from pagemill.services.step_work import result_key


def test_results_share_a_bounded_set_of_directories() -> None:
    # Attempt-scoped file names, filed under two characters of the execution id: a new
    # execution creates no directory once its shard exists.
    assert result_key(StepRef("pex_k8Hx9mP2nQ4v", 1, 2)) == "results/4v/pex_k8Hx9mP2nQ4v.1.2.json"
    keys = {
        result_key(StepRef("pex_k8Hx9mP2nQ4v", step, attempt))
        for step in range(3)
        for attempt in (1, 2)
    }
    assert len(keys) == 6
    assert {key.rsplit("/", 1)[0] for key in keys} == {"results/4v"}
