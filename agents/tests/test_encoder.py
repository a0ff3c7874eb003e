"""The sentence encoder: the pinned model only, unit vectors, meaning over wording, its cache."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings

from agents import encoder as encoder_module
from agents.encoder import (
    DIMENSIONS,
    EncoderUnavailable,
    SentenceEncoder,
    encoder_enabled,
    sentence_encoder,
)


@pytest.fixture(scope="module")
def minilm() -> SentenceEncoder:
    return SentenceEncoder()


def test_vectors_are_unit_length_float32_rows(minilm) -> None:
    vectors = minilm.encode(["Where is my parcel?", "", "a" * 5000, "¿Dónde está mi pedido? 📦"])
    assert vectors.shape == (4, DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert minilm.encode([]).shape == (0, DIMENSIONS)


def test_batches_give_the_same_vectors_as_single_texts(minilm) -> None:
    texts = [f"question number {i} about my order" for i in range(70)] + ["short"]
    together = SentenceEncoder().encode(texts)
    alone = np.vstack([SentenceEncoder().encode([t]) for t in (texts[0], texts[-1])])
    assert np.allclose(together[[0, -1]], alone, atol=1e-4)


def test_a_paraphrase_without_shared_words_is_close_and_an_unrelated_question_is_not(
    minilm,
) -> None:
    anchor, paraphrase, unrelated = minilm.encode(
        ["I forgot my password", "I can't log in to my account", "what's the weather in Paris"]
    )
    assert anchor @ paraphrase > 0.5
    assert anchor @ unrelated < 0.2


def test_repeated_texts_come_from_the_cache_and_the_cache_is_bounded(monkeypatch) -> None:
    encoder = SentenceEncoder()
    calls: list[list[str]] = []
    original = encoder._encode_all

    def counting(texts):
        calls.append(list(texts))
        return original(texts)

    monkeypatch.setattr(encoder, "_encode_all", counting)
    monkeypatch.setattr(encoder_module, "_CACHE_SIZE", 3)
    first = encoder.encode(["a", "b", "a"])
    assert calls == [["a", "b"]]
    assert np.array_equal(first[0], first[2])
    assert np.array_equal(encoder.encode(["b"])[0], first[1])
    assert len(calls) == 1
    encoder.encode(["c", "d", "e"])
    assert len(encoder._cache) == 3
    assert "a" not in encoder._cache


def test_a_file_that_is_not_the_pinned_model_is_refused(tmp_path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(EncoderUnavailable, match="pinned"):
        SentenceEncoder(model_file=fake)
    with pytest.raises(EncoderUnavailable, match="pinned"):
        SentenceEncoder(model_file=tmp_path / "missing.onnx")


def test_the_setting_switches_the_encoder_off_and_rejects_unknown_values() -> None:
    with override_settings(AGENT_ENCODER="none"):
        assert not encoder_enabled()
        assert sentence_encoder() is None
    with override_settings(AGENT_ENCODER="MiniLM "):
        assert isinstance(sentence_encoder(), SentenceEncoder)
    with override_settings(AGENT_ENCODER=None):  # missing: the default
        assert encoder_enabled()
    with override_settings(AGENT_ENCODER="bert"), pytest.raises(EncoderUnavailable, match="bert"):
        encoder_enabled()
