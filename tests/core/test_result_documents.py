"""Every result type's JSON document comes from one function (``core.render.document``) and
is, byte for byte, the document each type spelled out by hand: the hand-written forms are kept
below as the specification, and a dozen results — passing, failing, misshapen, on a kink,
probed, float32 — are compared through ``json.dumps``."""

import json
from unittest.mock import patch

import numpy as np
import pytest
from layer_examples import array_api as A

import reference
from autodiff import check_gradients, check_vjp
from autodiff.check import probes
from autodiff.check.cases import NetworkCase
from autodiff.check.layers.check import check_library_layer
from autodiff.check.layers.stack import check_stack
from autodiff.check.mistakes import get_layer_mistake
from autodiff.core.render import document, finite_or_none, json_safe
from reference.layers import Stack


def _probe(probe) -> dict:
    return {"directions": probe.directions,
            "detects_error_norm": finite_or_none(probe.detects),
            "detects_relative": finite_or_none(probe.relative),
            "miss_probability": probe.miss,
            "manual_excess": finite_or_none(probe.manual_excess),
            "jax_excess": finite_or_none(probe.jax_excess)}


def _block(block) -> dict:
    return {"block": block.name, "status": block.status,
            "max_abs_error": finite_or_none(block.max_abs_error),
            "max_rel_error": finite_or_none(block.max_rel_error),
            "worst_index": None if block.worst_index is None else list(block.worst_index),
            "manual": finite_or_none(block.manual_value),
            "jax": finite_or_none(block.jax_value),
            "third_opinion": finite_or_none(block.oracle_value),
            "tolerance": finite_or_none(block.tolerance),
            "max_third_opinion_error": finite_or_none(block.max_oracle_error),
            "third_opinion_probe": None if block.probe is None else _probe(block.probe),
            "note": block.note,
            "diagnosis": [{"key": key, "text": text} for key, text in block.diagnosis]}


def _network(result) -> dict:
    return {"passed": result.passed, "verdict": result.verdict,
            "inconclusive": result.inconclusive, "sizes": list(result.sizes),
            "batch": result.batch, "activation": result.activation, "dtype": result.dtype,
            "manual": result.manual_name, "first_wrong_layer": result.first_wrong_layer,
            "hints": list(result.hints), "blocks": [_block(b) for b in result.blocks],
            **result.extra}


def _argument(a) -> dict:
    return {"argument": a.name, "position": a.position, "shape": list(a.shape),
            "status": a.status, "passed": a.passed, "oracle": a.oracle, "trust": a.trust,
            "fallbacks": list(a.fallbacks), "oracle_error": finite_or_none(a.oracle_error),
            "max_abs_error": finite_or_none(a.max_abs_error),
            "max_rel_error": finite_or_none(a.max_rel_error),
            "worst_index": None if a.worst_index is None else list(a.worst_index),
            "got": finite_or_none(a.got), "expected": finite_or_none(a.expected),
            "tolerance": finite_or_none(a.tolerance), "worst_at_kink": a.worst_at_kink,
            "interval": None if a.interval is None else [float(v) for v in a.interval],
            "kinks": a.kinks, "checked": a.checked, "scale": finite_or_none(a.scale),
            "diagnosis": [{"key": key, "text": text} for key, text in a.diagnosis],
            "note": a.note}


def _vjp(result) -> dict:
    return {"passed": result.passed, "dtype": result.dtype, "forward": result.forward_name,
            "backward": result.backward_name, "dout": result.dout,
            "arguments": [_argument(a) for a in result.arguments],
            "warnings": list(result.warnings)}


def _layer(result) -> dict:
    return {"layer": result.layer, "index": result.index, "passed": result.passed,
            "dtype": result.dtype, "backward": result.backward_name,
            "diagnosis": dict(result.diagnosis),
            "gradients": [_block(b) for b in result.blocks]}


def _stack(result) -> dict:
    wrong = result.first_wrong
    return {"stack": result.description, "passed": result.passed, "dtype": result.dtype,
            "loss": result.loss, "backward": result.backward_name,
            "first_wrong_layer": None if wrong is None else wrong.index,
            "first_wrong_layer_name": None if wrong is None else wrong.layer,
            "blocks": [_block(b) for b in result.blocks],
            "layers": [_layer(layer) for layer in result.layers]}


def _negated_b2(params, x, y):
    grads = reference.gradients(params, x, y, "logistic")
    return [(dW, -db) if i == 1 else (dW, db) for i, (dW, db) in enumerate(grads)]


def _probed(params, x, y):
    """Every block probed along random directions (a budget of no element-by-element pass)."""
    with patch.object(probes, "FULL_BUDGET", 0.0):
        return check_gradients(params, x, y, "logistic", third_opinion="always", probes=3)


def _networks():
    small = NetworkCase(sizes=(2, 3, 2), batch=4).build()
    return [("network pass", _network, lambda: check_gradients(*small, "logistic")),
            ("network fail", _network,
             lambda: check_gradients(*small, "logistic", manual=_negated_b2)),
            ("network float32", _network,
             lambda: check_gradients(*small, "tanh", dtype="float32")),
            ("network probed", _network,
             lambda: _probed(*small))]


def _vjps():
    x, w, b = (np.random.default_rng(3).standard_normal(s) for s in ((4, 5), (5, 3), (3,)))
    kinked = np.array([-1.0, 0.0, 2.0])
    return [("vjp pass", _vjp, lambda: check_vjp(A.affine, A.affine_backward, x, w, b)),
            ("vjp fail", _vjp, lambda: check_vjp(
                A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d, -d.sum(axis=0)), x, w, b)),
            ("vjp misshapen", _vjp, lambda: check_vjp(
                A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d, d.sum(axis=1)), x, w, b)),
            ("vjp kink", _vjp, lambda: check_vjp(
                lambda x: np.maximum(x, 0), lambda d, x: d * np.where(x == 0, 3.0, x > 0), kinked))]


def _layers():
    wrong_relu = get_layer_mistake("relu-inverted-mask")
    text = "dense(units=3),relu,squared_error"
    return [("layer pass", _layer, lambda: check_library_layer("relu")),
            ("layer fail", _layer, lambda: check_library_layer("relu", backward=wrong_relu)),
            ("layer float32", _layer, lambda: check_library_layer("tanh", dtype="float32")),
            ("stack pass", _stack, lambda: check_stack(Stack.parse(text))),
            ("stack fail", _stack,
             lambda: check_stack(Stack.parse(text), backwards={"relu": wrong_relu}))]


CASES = _networks() + _vjps() + _layers()


@pytest.mark.parametrize(("spelled_out", "run"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_the_one_renderer_writes_each_document_byte_for_byte(spelled_out, run):
    result = run()
    assert json.dumps(result.to_dict()) == json.dumps(spelled_out(result))


def test_the_cases_cover_both_verdicts_a_kink_and_a_probe():
    results = {name: run() for name, _, run in CASES}
    assert {name for name, r in results.items() if not r.passed} == {
        "network fail", "vjp fail", "vjp misshapen", "vjp kink", "layer fail", "stack fail"}
    assert results["vjp kink"].arguments[0].interval is not None
    assert any(b.probe is not None for b in results["network probed"].blocks)
    assert results["network fail"].blocks[3].diagnosis or results["layer fail"].diagnosis


class _Named:
    def __init__(self):
        self.size, self.spread, self.shape = np.int64(3), np.float32(np.inf), (2, 0)


def test_document_declares_renames_and_computed_fields_and_makes_values_json_safe():
    assert document(_Named(), ("size", ("width", "spread"), ("cells", lambda n: n.shape))) == {
        "size": 3, "width": None, "cells": [2, 0]}
    assert json_safe({1: np.array([[1.5, np.nan]]), "ok": np.bool_(True)}) == {
        "1": [[1.5, None]], "ok": True}
