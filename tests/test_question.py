"""Answer-type rules of assistant/question.py: what a question asks for."""

from __future__ import annotations

import pytest

from assistant.question import DOSE, required_type


@pytest.mark.parametrize(
    "question",
    ["What dose of colchicine is used after a heart attack?", "How is colchicine dosed?", "Colchicine 0.5 mg or 1 mg?"],
)
def test_a_dose_question_requires_a_dose(question: str) -> None:
    assert required_type(question) is DOSE


@pytest.mark.parametrize(
    "question",
    ["Does low-dose colchicine reduce cardiovascular events?", "Are high-dose steroids better than pulses?"],
)
def test_a_dose_adjective_does_not_make_a_dose_question(question: str) -> None:
    assert required_type(question) is not DOSE, "'low-dose X' names a regimen; the question asks about its effect"
