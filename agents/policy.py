"""Escalation policy: when the AI hands a conversation to a person, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Requests for a person, in the many ways customers ask. Word-bounded and anchored on a
# verb or a request so that "my agent number" or "human resources" alone don't trigger it.
# Plain "people" is left out: "I would not like to waste my time on these people" is a
# complaint about the company, not a request (a Banking77 question); "real people" counts.
_HUMAN_REQUEST = re.compile(
    r"""
    \b(?:speak|talk|chat|connect|transfer|put\s+me\s+through|get\s+me|give\s+me|need|want|
        like|can\s+i\s+(?:have|get)|let\s+me\s+(?:speak|talk))\b
    [^.?!]{0,40}?
    \b(?:human|person|agent|representative|rep|operator|someone|somebody|
        staff|support\s+team|customer\s+service|advisor|adviser|manager|supervisor|
        real\s+(?:person|human|one|people))\b
    |\b(?:human|live|real)\s+(?:agent|person|support|help|being)\b
    |\b(?:representative|operator)\s*(?:please|pls|now)?\s*[.!?]*\s*$
    |\bagent\s*(?:please|pls|now)\s*[.!?]*\s*$
    |^\s*(?:a\s+)?(?:human|agent|person|representative|operator)\s*(?:please|pls|now)?
        \s*[.!?]*\s*$
    |\bare\s+you\s+(?:a\s+)?(?:bot|robot|real|human)\b
    |\bstop\s+(?:the\s+)?bot\b|\bno\s+more\s+bots?\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Anger and complaint signals: a person should pick these up even if the answer is known.
_UPSET = re.compile(
    r"""
    \b(?:ridiculous|unacceptable|outrageous|disgusting|disgraceful|pathetic|useless|
        terrible|horrible|awful|worst|furious|angry|livid|fed\s+up|sick\s+of|
        scam|fraudsters|rip[\s-]?off|incompetent|shambles|appalling)\b
    |\b(?:formal\s+)?complaint\b|\bcomplain\b|\bsue\b|\blawyer\b|\blegal\s+action\b
    |\bcancel\s+my\s+account\b(?=.*\b(?:now|immediately)\b)
    |\b(?:wtf|ffs)\b|\bf+u+c+k|\bsh[i1]t+\b|\bdamn\b|\bcrap\b
    |!{3,}
    """,
    re.IGNORECASE | re.VERBOSE,
)

# The customer telling us the last answer did not help.
_UNHELPFUL = re.compile(
    r"""
    \b(?:that|this|it|you)\s+(?:did\s*n[o']?t|does\s*n[o']?t|do\s*n[o']?t|is\s*n[o']?t|
        was\s*n[o']?t)\s+(?:help|answer|work|make\s+sense|what\s+i)
    |\bnot\s+(?:helpful|what\s+i\s+(?:asked|meant|need))\b
    |\b(?:doesn'?t|didn'?t)\s+help\b|\bno\s+help\b|\bunhelpful\b
    |\byou(?:'re|\s+are)\s+not\s+(?:listening|understanding|helping)\b
    |\bthat'?s\s+not\s+(?:it|right|what)\b|\bwrong\s+answer\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def wants_human(text: str) -> bool:
    """Return whether the customer asks for a person."""
    return bool(_HUMAN_REQUEST.search(text))


def is_upset(text: str) -> bool:
    """Return whether the message carries anger or a complaint."""
    return bool(_UPSET.search(text))


def is_unhelpful_feedback(text: str) -> bool:
    """Return whether the customer says the previous answer did not help."""
    return bool(_UNHELPFUL.search(text))


@dataclass(frozen=True)
class EscalationDecision:
    escalate: bool
    reasons: list[str] = field(default_factory=list)


# How many unhelpful turns in a row (low-confidence answers or "that didn't help") make the
# agent give up and hand over even if the latest answer looks confident.
REPEATED_UNHELPFUL_LIMIT = 2


def escalation_decide(
    *,
    text: str,
    confidence: float,
    threshold: float,
    has_answer: bool,
    prior_unhelpful_turns: int = 0,
) -> EscalationDecision:
    """Decide whether to hand over, with every reason that applies."""
    reasons = []
    if wants_human(text):
        reasons.append("human_requested")
    if is_upset(text):
        reasons.append("customer_upset")
    if not has_answer:
        reasons.append("no_matching_article")
    elif confidence < threshold:
        reasons.append("low_confidence")
    unhelpful = prior_unhelpful_turns + (1 if is_unhelpful_feedback(text) else 0)
    if unhelpful >= REPEATED_UNHELPFUL_LIMIT:
        reasons.append("repeated_unhelpful")
    return EscalationDecision(escalate=bool(reasons), reasons=reasons)
