"""Kata 19 benchmarking. Run: pytest exercises/19_benchmarking   (one step: -k "step1_" ... "step5_").

Nothing here times real code: every clock is a fake one, and the server's sleep advances it.
"""

from __future__ import annotations

import json
import os
import platform

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.benchmarking import (
    FIELDS,
    accuracy_gate,
    bootstrap_ci,
    environment,
    load_record,
    make_record,
    offline,
    poisson_arrivals,
    save_record,
    server,
    server_latencies,
    single_stream,
    summarize,
    timer_resolution,
    validate_record,
)

# --- fakes written here, independent of the kata ----------------------------------------------------


class FakeTime:
    """A fake clock with a fake sleep: time moves only when sleep() or the served work moves it."""

    def __init__(self, service=()):
        self.now = 0.0
        self.service = list(service)  # how long each call of work() takes, in call order
        self.calls = 0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def work(self):
        self.now += self.service[self.calls]
        self.calls += 1


def ticking(times):
    """A clock returning the given readings in order."""
    readings = iter(times)
    return lambda: next(readings)


samples_strategy = st.lists(
    st.floats(min_value=1e-6, max_value=1.0, allow_nan=False, allow_infinity=False), min_size=1, max_size=40
)

# --- step 1: statistics ---------------------------------------------------------------------------------


@given(samples=samples_strategy, seed=st.integers(0, 2**16))
def test_step1_summary_figures_equal_numpys(samples, seed):
    figures = summarize(samples, resamples=50, seed=seed)
    x = np.array(samples)
    p50, p90, p99 = np.percentile(x, [50, 90, 99])
    expected = {
        "count": len(samples),
        "mean": np.mean(x),
        "std": np.std(x),
        "min": x.min(),
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "max": x.max(),
    }
    for name, value in expected.items():
        assert figures[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    assert figures["p50"] == pytest.approx(np.median(x), rel=1e-12)
    assert set(figures) == set(expected) | {"p50_low", "p50_high"}
    assert all(type(value) is float for value in figures.values())


@given(samples=samples_strategy, seed=st.integers(0, 2**16))
def test_step1_a_confidence_interval_contains_its_median_and_lies_within_the_samples(samples, seed):
    low, high = bootstrap_ci(samples, resamples=200, seed=seed)
    assert min(samples) <= low <= np.median(samples) <= high <= max(samples)


def test_step1_the_interval_is_the_percentile_bootstrap_written_in_the_contract():
    x = np.random.default_rng(7).lognormal(size=25)
    idx = np.random.default_rng(3).integers(0, 25, size=(300, 25))
    medians = np.median(x[idx], axis=1)
    expected = np.percentile(medians, [5, 95])
    assert bootstrap_ci(list(x), confidence=0.9, resamples=300, seed=3) == pytest.approx(tuple(expected), rel=1e-12)


def test_step1_a_seed_reproduces_the_interval_and_a_wider_confidence_widens_it():
    x = np.random.default_rng(1).exponential(size=30)
    assert bootstrap_ci(x, seed=5) == bootstrap_ci(x, seed=5)
    low90, high90 = bootstrap_ci(x, confidence=0.9, seed=5)
    low99, high99 = bootstrap_ci(x, confidence=0.99, seed=5)
    assert low99 <= low90 <= high90 <= high99


def test_step1_one_sample_gives_a_point():
    assert bootstrap_ci([0.25], resamples=5) == (0.25, 0.25)
    assert summarize([0.25], resamples=5)["p99"] == 0.25


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"samples": []}, "samples must be a non-empty 1-D sequence of finite numbers, got shape"),
        ({"samples": [1.0, float("nan")]}, "samples must be a non-empty 1-D sequence of finite numbers, got nan"),
        ({"samples": [[1.0]]}, "samples must be a non-empty 1-D sequence of finite numbers, got shape"),
        ({"samples": ["a"]}, "samples must be a non-empty 1-D sequence of finite numbers, got dtype"),
        ({"samples": [1.0], "confidence": 1.0}, "confidence must be in \\(0, 1\\), got 1.0"),
        ({"samples": [1.0], "resamples": 0}, "resamples must be an integer >= 1, got 0"),
    ],
    ids=["step1-empty", "step1-nan", "step1-2d", "step1-str", "step1-confidence", "step1-resamples"],
)
def test_bad_statistics_inputs_are_refused_by_both(kwargs, match):
    options = dict(kwargs)
    samples = options.pop("samples")
    for fn in (bootstrap_ci, summarize):
        with pytest.raises(ValueError, match=f"{fn.__name__}: {match}"):
            fn(samples, **options)


@pytest.mark.parametrize(
    "samples, first",
    [([1e308, 1e308], "1e\\+308"), ([1.0, 1e154, -1e154], "1e\\+154"), ([1e100, -2e100], "-2e\\+100")],
    ids=["step1-mean-overflows", "step1-std-overflows", "step1-just-past-1e100"],
)
def test_samples_too_large_for_finite_figures_are_refused_by_both(samples, first):
    # NumPy's mean of [1e308, 1e308] is inf, and its std of [1e154, -1e154] squares past 1.8e308
    for fn in (bootstrap_ci, summarize):
        with pytest.raises(
            ValueError, match=f"{fn.__name__}: samples must be at most 1e\\+100 in magnitude .*, got {first}$"
        ):
            fn(samples, resamples=5)


def test_step1_samples_at_the_largest_magnitude_give_finite_figures_equal_numpys():
    x = np.array([1e100, -1e100, 1e100, 3e99, -7e99])
    figures = summarize(x, resamples=20, seed=2)
    assert all(np.isfinite(value) for value in figures.values())
    assert figures["mean"] == pytest.approx(np.mean(x), rel=1e-12)
    assert figures["std"] == pytest.approx(np.std(x), rel=1e-12)
    assert figures["p90"] == pytest.approx(np.percentile(x, 90), rel=1e-12)


# --- step 2: single-stream and offline ------------------------------------------------------------------


def test_step2_single_stream_times_each_query_after_an_untimed_warmup():
    spans = [0.003, 0.001, 0.002, 0.010, 0.002]
    times = []
    t = 100.0
    for span in spans:
        times += [t, t + span]
        t += span + 0.5  # a gap between queries is not counted
    calls = []
    figures = single_stream(lambda: calls.append(1), warmup=3, repeats=5, resamples=50, clock=ticking(times))
    assert len(calls) == 8
    p50, p90, p99 = np.percentile(spans, [50, 90, 99])
    assert figures["p50"] == pytest.approx(p50)
    assert figures["p90"] == pytest.approx(p90)
    assert figures["p99"] == pytest.approx(p99)
    assert figures["count"] == 5.0
    assert figures["p50_low"] <= figures["p50"] <= figures["p50_high"]


def test_step2_single_stream_with_a_seed_is_reproducible():
    times = list(np.cumsum(np.random.default_rng(0).exponential(0.001, size=60)))
    first = single_stream(lambda: None, warmup=0, repeats=30, seed=11, clock=ticking(times))
    second = single_stream(lambda: None, warmup=0, repeats=30, seed=11, clock=ticking(times))
    assert first == second


def test_step2_offline_throughput_is_samples_over_the_median_call():
    spans = [0.5, 0.25, 2.0]
    times = [0.0, 0.5, 1.0, 1.25, 2.0, 4.0]
    figures = offline(lambda: None, 64, warmup=2, repeats=3, clock=ticking(times))
    assert figures["seconds_per_call"] == pytest.approx(np.median(spans))
    assert figures["samples_per_second"] == pytest.approx(64 / np.median(spans))
    assert figures["samples_per_call"] == 64.0


def test_step2_bad_scenario_inputs_are_refused():
    with pytest.raises(ValueError, match="offline: samples_per_call must be an integer >= 1, got 0"):
        offline(lambda: None, 0, clock=ticking([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"offline: the median call must take a positive time, got 0\.0"):
        offline(lambda: None, 8, warmup=0, repeats=1, clock=ticking([1.0, 1.0]))
    with pytest.raises(ValueError, match="measure_latency: the clock must never go backwards"):
        single_stream(lambda: None, warmup=0, repeats=2, clock=ticking([0.0, 1.0, 0.5, 2.0]))


# --- step 3: the server scenario --------------------------------------------------------------------------


def test_step3_server_latencies_match_a_schedule_computed_by_hand():
    # A single server, first come first served. By hand (times after the origin):
    # query  arrives  service  starts                   finishes  latency = finish - arrival
    #   0      0.5      1.0     0.5 (idle until then)     1.5       1.0
    #   1      1.0      0.5     1.5 (queued behind 0)     2.0       1.0
    #   2      1.2      0.3     2.0 (queued behind 1)     2.3       1.1
    #   3      4.0      0.2     4.0 (idle 2.3 -> 4.0)     4.2       0.2
    #   4      4.0      0.4     4.2 (same arrival: FIFO)  4.6       0.6
    fake = FakeTime(service=[0.25, 0.25, 1.0, 0.5, 0.3, 0.2, 0.4])  # 2 warm-up calls first
    latencies = server_latencies(fake.work, [0.5, 1.0, 1.2, 4.0, 4.0], warmup=2, clock=fake.clock, sleep=fake.sleep)
    assert latencies.tolist() == pytest.approx([1.0, 1.0, 1.1, 0.2, 0.6], abs=1e-12)
    # the server idled exactly twice: until query 0 arrived, and from 2.3 to 4.0
    assert fake.sleeps == pytest.approx([0.5, 1.7], abs=1e-12)
    assert fake.calls == 7


def test_step3_an_idle_server_answers_in_its_service_time():
    fake = FakeTime(service=[0.1] * 4)
    latencies = server_latencies(fake.work, [1.0, 2.0, 3.0, 4.0], clock=fake.clock, sleep=fake.sleep)
    assert latencies == pytest.approx([0.1] * 4, abs=1e-12)


def test_step3_a_rate_so_small_its_arrivals_are_infinite_is_refused():
    with pytest.raises(ValueError, match="poisson_arrivals: rate must be large enough for finite arrivals, got 1e-320"):
        poisson_arrivals(1e-320, 3)


def test_step3_the_server_figures_are_python_floats_for_an_int_rate():
    fake = FakeTime(service=[0.01] * 8)
    figures = server(fake.work, rate=10, queries=3, resamples=5, clock=fake.clock, sleep=fake.sleep)
    assert figures["rate"] == 10.0
    assert all(type(value) is float for value in figures.values())


def test_step3_a_rate_whose_arrivals_sum_past_the_largest_float_is_refused():
    # 1 / 1e-307 is finite, but the running sum of 100 gaps of mean 1e307 passes 1.8e308
    with pytest.raises(ValueError, match="poisson_arrivals: rate must be large enough for finite arrivals, got 1e-307"):
        poisson_arrivals(1e-307, 100)


def test_step3_a_long_list_of_bad_arrivals_is_abbreviated_in_the_message():
    fake = FakeTime(service=[0.1])
    arrivals = [float(t) for t in range(1000, 0, -1)]  # decreasing
    text = repr(arrivals)
    with pytest.raises(ValueError, match="server_latencies: arrivals must be nondecreasing and >= 0") as info:
        server_latencies(fake.work, arrivals, clock=fake.clock, sleep=fake.sleep)
    assert str(info.value).endswith(f"got {text[:60]}... ({len(text)} characters)")


@pytest.mark.parametrize(
    ("seed", "written"),
    [(-1, "-1"), ("a", "'a'"), (object(), "object")],  # an object by its type: no address in the message
    ids=["step3-seed-negative", "step3-seed-str", "step3-seed-object"],
)
def test_a_bad_seed_is_refused_naming_the_function(seed, written):
    fake = FakeTime(service=[0.1] * 10)
    calls = {
        "bootstrap_ci": lambda: bootstrap_ci([1.0, 2.0], seed=seed),
        "summarize": lambda: summarize([1.0, 2.0], seed=seed),
        "poisson_arrivals": lambda: poisson_arrivals(1.0, 3, seed=seed),
        "server": lambda: server(fake.work, rate=1.0, queries=2, seed=seed, clock=fake.clock, sleep=fake.sleep),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=f"{name}: seed must be what np.random.default_rng accepts") as info:
            call()
        assert str(info.value).endswith(f"(an integer >= 0), got {written}"), str(info.value)


def test_step3_a_query_due_exactly_at_the_previous_finish_is_served_without_a_sleep():
    fake = FakeTime(service=[0.5, 0.25])
    latencies = server_latencies(fake.work, [0.0, 0.5], clock=fake.clock, sleep=fake.sleep)
    assert latencies.tolist() == [0.5, 0.25]
    assert fake.sleeps == []  # the origin is 0.0 = due of query 0; query 0 finishes at 0.5 = due of query 1


def test_step3_a_sleep_that_returns_early_is_slept_again_until_the_query_is_due():
    fake = FakeTime(service=[0.25])
    woken = []

    def early_once(seconds):  # the first sleep ends halfway, later ones in full
        woken.append(seconds)
        fake.now += seconds / 2 if len(woken) == 1 else seconds

    latencies = server_latencies(fake.work, [1.0], clock=fake.clock, sleep=early_once)
    assert woken == [1.0, 0.5]
    assert latencies.tolist() == [0.25]  # the service time: never a negative or shortened latency


def test_step3_a_sleep_that_does_not_wait_is_refused():
    fake = FakeTime(service=[0.25])
    with pytest.raises(ValueError, match=r"server_latencies: sleep must advance the clock, got a clock still at 0\.0"):
        server_latencies(fake.work, [1.0], clock=fake.clock, sleep=lambda seconds: None)


def test_step3_poisson_arrivals_are_the_running_sum_of_seeded_exponential_gaps():
    gaps = np.random.default_rng(4).exponential(1 / 20.0, size=50)
    arrivals = poisson_arrivals(20.0, 50, seed=4)
    assert arrivals.shape == (50,)
    np.testing.assert_allclose(arrivals, np.cumsum(gaps), rtol=1e-12)
    assert np.all(np.diff(arrivals) >= 0)


def test_step3_the_server_scenario_under_load_equals_the_queue_written_here():
    rate, queries, service = 50.0, 40, 0.015  # offered load 0.75: a queue forms at times
    arrivals = np.cumsum(np.random.default_rng(9).exponential(1 / rate, size=queries))
    finish, expected = 0.0, []
    for arrival in arrivals:  # the slow obvious twin: start = max(arrival, previous finish)
        finish = max(arrival, finish) + service
        expected.append(finish - arrival)
    fake = FakeTime(service=[service] * (queries + 3))
    figures = server(
        fake.work, rate=rate, queries=queries, warmup=3, resamples=50, seed=9, clock=fake.clock, sleep=fake.sleep
    )
    p50, p99 = np.percentile(expected, [50, 99])
    assert figures["p50"] == pytest.approx(p50, abs=1e-9)
    assert figures["p99"] == pytest.approx(p99, abs=1e-9)
    assert figures["max"] == pytest.approx(max(expected), abs=1e-9)
    assert figures["max"] > service  # some query did wait in the queue
    assert figures["rate"] == rate
    fake_again = FakeTime(service=[service] * (queries + 3))
    again = server(
        fake_again.work,
        rate=rate,
        queries=queries,
        warmup=3,
        resamples=50,
        seed=9,
        clock=fake_again.clock,
        sleep=fake_again.sleep,
    )
    assert again == figures
    # the interval is summarize's with the server's own seed (9), over the same latencies
    low, high = bootstrap_ci(expected, resamples=50, seed=9)
    assert figures["p50_low"] == pytest.approx(low, abs=1e-9)
    assert figures["p50_high"] == pytest.approx(high, abs=1e-9)


def test_step3_bad_server_inputs_are_refused():
    fake = FakeTime(service=[0.1] * 3)
    with pytest.raises(ValueError, match="poisson_arrivals: rate must be a finite number > 0, got 0"):
        poisson_arrivals(0, 5)
    with pytest.raises(ValueError, match="poisson_arrivals: queries must be an integer >= 1, got 0"):
        poisson_arrivals(1.0, 0)
    with pytest.raises(
        ValueError, match=r"server_latencies: arrivals must be nondecreasing and >= 0, got \[1.0, 0.5\]"
    ):
        server_latencies(fake.work, [1.0, 0.5], clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(ValueError, match=r"server_latencies: arrivals must be nondecreasing and >= 0, got \[-1.0\]"):
        server_latencies(fake.work, [-1.0], clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(ValueError, match="server_latencies: arrivals must be a non-empty 1-D sequence"):
        server_latencies(fake.work, [], clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(TypeError, match="server_latencies: sleep must be callable, got int"):
        server_latencies(fake.work, [1.0], clock=fake.clock, sleep=3)
    with pytest.raises(ValueError, match="server_latencies: the clock must never go backwards"):
        server_latencies(fake.work, [0.0], clock=ticking([5.0, 5.0, 4.0, 6.0]), sleep=fake.sleep)


# --- step 4: the accuracy gate and the record ------------------------------------------------------------


def test_step4_a_model_below_the_accuracy_gate_is_rejected_naming_both_figures():
    with pytest.raises(ValueError, match=r"accuracy_gate: accuracy must be >= the target 0\.97, got 0\.95"):
        accuracy_gate(0.95, 0.97)
    with pytest.raises(ValueError, match=r"accuracy must be >= the target 0\.9, got 0\.85"):
        make_record("mlp", "offline", {"samples_per_second": 1.0}, accuracy=0.85, target=0.9)
    assert accuracy_gate(0.97, 0.97) is None
    with pytest.raises(ValueError, match="accuracy_gate: target must be a number in \\[0, 1\\], got nan"):
        accuracy_gate(0.5, float("nan"))


def test_step4_the_environment_names_python_numpy_blas_and_cores():
    env = environment()
    assert env["python"] == platform.python_version()
    assert env["numpy"] == np.__version__
    assert env["cores"] == (os.cpu_count() or 1)
    assert isinstance(env["blas"], str) and env["blas"]


def test_step4_the_environment_says_one_core_when_the_os_cannot_tell(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert environment()["cores"] == 1


@pytest.fixture
def record():
    return make_record("digits-mlp", "single-stream", {"p50": 0.001, "p99": 0.003}, accuracy=0.975, target=0.97)


def test_step4_a_record_survives_a_json_round_trip(record, tmp_path):
    assert set(record) == set(FIELDS)
    assert record["figures"] == {"p50": 0.001, "p99": 0.003}
    assert record["environment"] == environment()
    path = tmp_path / "result.json"
    save_record(record, path)
    assert json.loads(path.read_text()) == record
    # the text the contract writes: indented, keys sorted, one newline at the end
    assert path.read_text(encoding="utf-8") == json.dumps(record, indent=2, sort_keys=True) + "\n"
    assert load_record(path) == record
    assert load_record(str(path)) == record


def malformed(record, change):
    bad = json.loads(json.dumps(record))
    change(bad)
    return bad


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda r: r.pop("model"), "model"),
        (lambda r: r.update(model=""), "model"),
        (lambda r: r.update(scenario="batch"), "scenario"),
        (lambda r: r.update(figures={}), "figures"),
        (lambda r: r["figures"].update(p50="fast"), "figures.p50"),
        (lambda r: r["figures"].update(p99=True), "figures.p99"),
        (lambda r: r.update(accuracy=1.5), "accuracy"),
        (lambda r: r.update(accuracy=0.5), "accuracy"),
        (lambda r: r.update(extra=1), "extra"),
        (lambda r: r["environment"].update(cores=0), "environment.cores"),
        (lambda r: r["environment"].pop("blas"), "environment.blas"),
        (lambda r: r["environment"].update(numpy=2), "environment.numpy"),
        (lambda r: r["figures"].update(p50=float("nan")), "figures.p50"),
        (lambda r: r["figures"].update(p50=float("inf")), "figures.p50"),
        (lambda r: r.update(target=1.5), "target"),
        (lambda r: r["environment"].update(extra="x"), "environment.extra"),
        (lambda r: r["environment"].update(cores=True), "environment.cores"),
    ],
    ids=[
        "step4-no-model",
        "step4-empty-model",
        "step4-scenario",
        "step4-no-figures",
        "step4-figure-str",
        "step4-figure-bool",
        "step4-accuracy-range",
        "step4-below-gate",
        "step4-unknown-field",
        "step4-cores",
        "step4-no-blas",
        "step4-numpy-int",
        "step4-figure-nan",
        "step4-figure-inf",
        "step4-target-range",
        "step4-unknown-environment-field",
        "step4-cores-bool",
    ],
)
def test_a_malformed_record_is_refused_on_load_naming_the_field(record, tmp_path, change, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(malformed(record, change)))
    with pytest.raises(ValueError, match=f"load_record: field '{field}' must"):
        load_record(path)
    with pytest.raises(ValueError, match=f"save_record: field '{field}' must"):
        save_record(malformed(record, change), tmp_path / "never.json")
    assert not (tmp_path / "never.json").exists()


def test_step4_a_record_whose_accuracy_equals_its_target_is_accepted(record, tmp_path):
    tie = malformed(record, lambda r: r.update(accuracy=0.97, target=0.97))
    assert validate_record(tie) is None
    path = tmp_path / "tie.json"
    save_record(tie, path)
    assert load_record(path) == tie


def test_step4_a_record_json_cannot_hold_leaves_an_existing_file_unchanged(record, tmp_path):
    path = tmp_path / "result.json"
    save_record(record, path)
    before = path.read_bytes()
    numpy_figure = malformed(record, lambda r: None)
    numpy_figure["figures"]["p50"] = np.float32(0.5)  # passes validation, json.dumps cannot write it
    numpy_cores = malformed(record, lambda r: None)
    numpy_cores["environment"]["cores"] = np.int64(4)
    for bad in (numpy_figure, numpy_cores):
        with pytest.raises(ValueError, match="save_record: the record must be JSON-serializable"):
            save_record(bad, path)
        assert path.read_bytes() == before


def test_step4_a_figure_too_big_for_a_float_is_refused_naming_the_field(record, tmp_path):
    huge = malformed(record, lambda r: r["figures"].update(p50=10**400))
    with pytest.raises(ValueError, match=r"validate_record: field 'figures\.p50' must be a finite number"):
        validate_record(huge)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(huge))  # a 401-digit JSON integer
    with pytest.raises(ValueError, match=r"load_record: field 'figures\.p50' must be a finite number"):
        load_record(path)
    with pytest.raises(ValueError, match=r"make_record: field 'figures\.p50' must be a finite number"):
        make_record("m", "offline", {"p50": 10**400}, accuracy=1.0, target=0.5)


def test_step4_an_empty_figure_name_is_refused(record, tmp_path):
    empty = malformed(record, lambda r: r["figures"].update({"": 1.0}))
    match = "field 'figures' must have non-empty str names, got ''"
    with pytest.raises(ValueError, match=f"validate_record: {match}"):
        validate_record(empty)
    with pytest.raises(ValueError, match=f"make_record: {match}"):
        make_record("m", "offline", {"": 1.0}, accuracy=1.0, target=0.5)
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(empty))
    with pytest.raises(ValueError, match=f"load_record: {match}"):
        load_record(path)


@pytest.mark.parametrize("value", ["0.5", True], ids=["step4-figure-str", "step4-figure-bool"])
def test_make_record_refuses_a_figure_that_is_no_number_instead_of_converting_it(value):
    # float("0.5") is 0.5 and float(True) is 1.0: converting first would hide the wrong figure
    with pytest.raises(ValueError, match=f"make_record: field 'figures.p50' must be a finite number, got {value!r}"):
        make_record("m", "offline", {"p50": value}, accuracy=1.0, target=0.5)


def test_step4_a_huge_value_is_abbreviated_in_the_message(record, tmp_path):
    huge = malformed(record, lambda r: r["figures"].update(p50=10**400))
    with pytest.raises(
        ValueError, match=r"field 'figures\.p50' must be a finite number, got 1\.000e\+400 \(an int of 401 digits\)$"
    ):
        validate_record(huge)
    # past 4300 digits Python refuses to write the int at all
    larger = malformed(record, lambda r: r["figures"].update(p50=10**5000))
    with pytest.raises(
        ValueError, match=r"field 'figures\.p50' must be a finite number, got 1\.000e\+5000 \(an int of 5001 digits\)$"
    ):
        validate_record(larger)
    with pytest.raises(ValueError, match=r"field 'figures' must be a non-empty dict.*, got a list too large to show$"):
        validate_record(malformed(record, lambda r: r.update(figures=[10**5000])))
    scenario = "x" * 1000
    with pytest.raises(ValueError, match=r"field 'scenario' must be one of .*, got 'x{59}\.\.\. \(1002 characters\)$"):
        validate_record(malformed(record, lambda r: r.update(scenario=scenario)))
    path = tmp_path / "digits.json"
    path.write_text('{"model": 1' + "0" * 5000 + "}")  # JSON Python's parser refuses (4300 digits at most)
    with pytest.raises(ValueError, match="load_record: the file must hold JSON, got"):
        load_record(path)


def test_step4_a_file_that_is_not_a_record_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="load_record: a record must be a dict, got list"):
        load_record(path)
    path.write_bytes(b'{"model": "\xff"}')
    with pytest.raises(ValueError, match=r"load_record: the file '.*bad\.json' must hold UTF-8 text"):
        load_record(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="load_record: the file must hold JSON"):
        load_record(path)
    with pytest.raises(ValueError, match="validate_record: field 'scenario' must be one of"):
        validate_record({**make_record("m", "server", {"p50": 1.0}, accuracy=1, target=0), "scenario": "x"})


# --- step 5: the clock's resolution ----------------------------------------------------------------------


def test_step5_timer_resolution_is_the_smallest_positive_step_of_a_fake_clock():
    readings = [0.0, 0.0, 0.0, 1e-6, 1e-6, 1e-6, 3e-6, 3.5e-6, 3.5e-6, 3.5e-6]
    assert timer_resolution(ticking(readings), pairs=5) == pytest.approx(0.5e-6, rel=1e-12)
    assert timer_resolution(ticking([2.0, 4.0]), pairs=1) == 2.0
    # pairs (0, 1), (1.25, 2.25), (3, 4): every step within a pair is 1.0, the least one is between pairs
    assert timer_resolution(ticking([0.0, 1.0, 1.25, 2.25, 3.0, 4.0]), pairs=3) == 0.25


def test_step5_a_clock_that_never_advances_or_goes_backwards_is_refused():
    with pytest.raises(ValueError, match="timer_resolution: the clock must advance within 6 readings, got 6 equal"):
        timer_resolution(lambda: 1.0, pairs=3)
    with pytest.raises(ValueError, match="timer_resolution: the clock must never go backwards"):
        timer_resolution(ticking([1.0, 2.0, 1.5, 3.0]), pairs=2)
    with pytest.raises(ValueError, match="timer_resolution: pairs must be an integer >= 1, got 0"):
        timer_resolution(lambda: 1.0, pairs=0)


# --- every step: a huge value is abbreviated in the message ----------------------------------------------

HUGE = r"1\.000e\+400 \(an int of 401 digits\)$"


@pytest.mark.parametrize(
    "name, call, match",
    [
        ("bootstrap_ci", lambda: bootstrap_ci([1.0], confidence=10**400), "confidence must be in"),
        ("summarize", lambda: summarize([1.0], resamples=-(10**400)), "resamples must be an integer >= 1"),
        ("summarize", lambda: summarize([1.0], seed=-(10**400)), "seed must be what np.random.default_rng accepts"),
        ("offline", lambda: offline(lambda: None, 10**400, clock=ticking([0.0, 1.0])), "samples_per_call must be"),
        ("poisson_arrivals", lambda: poisson_arrivals(10**400, 3), "rate must be a finite number > 0"),
        ("accuracy_gate", lambda: accuracy_gate(10**400, 0.5), r"accuracy must be a number in \[0, 1\]"),
        ("timer_resolution", lambda: timer_resolution(lambda: 1.0, pairs=-(10**400)), "pairs must be an integer"),
    ],
    ids=[
        "step1-confidence",
        "step1-resamples",
        "step1-seed",
        "step2-offline",
        "step3-rate",
        "step4-gate",
        "step5-pairs",
    ],
)
def test_a_401_digit_int_is_written_abbreviated_naming_the_function(name, call, match):
    with pytest.raises(ValueError, match=f"{name}: {match}.*, got -?{HUGE}"):
        call()
