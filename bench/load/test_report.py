"""The load benchmark's arithmetic, checked by hand (``python -m pytest -q bench/load/test_report.py``;
not under tests/, so the suite does not collect it)."""

from bench.load.report import (
    Event,
    by_phase,
    cpu_cell,
    cpu_cores,
    percentile,
    phase_of,
    rss_summary,
    spike,
    throughput,
)

MB = 2**20


def test_the_percentile_is_the_nearest_rank():
    assert percentile([40, 10, 30, 20], 50) == 20  # rank ceil(0.5 × 4) = 2
    assert percentile([40, 10, 30, 20], 95) == 40  # rank ceil(0.95 × 4) = 4
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_phases_are_split_at_the_ramp_and_the_publish():
    assert phase_of(5, steady_from=10, publish_at=100, during=60) is None  # still logging in
    assert phase_of(50, 10, 100, 60) == "before"
    assert phase_of(100, 10, 100, 60) == "during"
    assert phase_of(159.9, 10, 100, 60) == "during"
    assert phase_of(160, 10, 100, 60) == "after"
    assert phase_of(500, 10, None, 60) == "before"  # no publish: all steady state


def test_clicks_are_summarised_per_phase_and_together():
    events = [Event(20, "interaction", "overview", 100, True), Event(30, "interaction", "overview", 300, False),
              Event(120, "interaction", "drill", 50, True), Event(25, "interaction", "login", 900, True),
              Event(21, "POST", "cb _pages_content.children", 80, True), Event(5, "interaction", "overview", 999, True)]
    s = by_phase(events, steady_from=10, publish_at=100, during=60)
    assert (s[("overview", "before")].n, s[("overview", "before")].p50, s[("overview", "before")].p95,
            s[("overview", "before")].errors) == (2, 100, 300, 1)
    assert s[("all interactive", "before")].n == 2  # the login is not a click; the ramp's overview is left out
    assert s[("login", "before")].n == 1
    assert (s[("drill", "during")].n, s[("drill", "during")].p95) == (1, 50)
    assert ("cb _pages_content.children", "before") not in s  # requests only when asked for
    assert by_phase(events, 10, 100, 60, kind="POST")[("cb _pages_content.children", "before")].p50 == 80


def test_throughput_counts_requests_or_one_kind_per_second():
    events = [Event(t, "POST", "cb", 10, True) for t in (10, 11, 12, 19.9, 20)] + \
             [Event(15, "interaction", "overview", 10, True)]
    assert throughput(events, 10, 20) == 0.4  # four requests started in [10, 20)
    assert throughput(events, 10, 20, kind="interaction") == 0.1


def test_the_spike_is_the_worst_window_and_ends_with_the_last_slow_window():
    events = [Event(101, "interaction", "overview", 400, True), Event(105, "interaction", "drill", 120, True),
              Event(115, "interaction", "services", 200, True), Event(125, "interaction", "overview", 90, True),
              Event(102, "interaction", "briefing export", 9000, True)]  # an export is not a click
    # limit max(1.5 × 100, 100 + 50) = 150; windows [100,110) p95 400, [110,120) 200, [120,130) 90
    assert spike(events, publish_at=100, before_p95=100) == (400, 20)
    assert spike([], 100, 100) == (None, None)


def test_rss_is_per_process_with_transient_kinds_summed():
    rows = [(1, 10, "gunicorn master", 100 * MB), (1, 11, "gunicorn worker", 200 * MB),
            (2, 10, "gunicorn master", 110 * MB), (2, 11, "gunicorn worker", 220 * MB),
            (2, 12, "export job", 50 * MB), (2, 13, "export job", 30 * MB), (2, 14, "publish CLI", 500 * MB),
            (2, 15, "locust", 60 * MB)]
    assert rss_summary(rows) == [
        ("RSS gunicorn master 1", "100 / 110 MB"),
        ("RSS gunicorn worker 1", "200 / 220 MB"),
        ("RSS export job (peak of the sum)", "80 MB"),
        ("RSS publish CLI (peak of the sum)", "500 MB"),
        ("RSS locust (peak of the sum)", "60 MB"),
        ("RSS all server processes (sum)", "300 / 410 MB"),  # t=1: 100 + 200; t=2: 110 + 220 + 80 (not CLI, locust)
    ]


def test_cpu_is_the_growth_of_cpu_time_over_the_span_per_kind():
    cpu = [(0, 1, "gunicorn worker", 10.0), (10, 1, "gunicorn worker", 15.0),
           (0, 2, "gunicorn worker", 0.0), (10, 2, "gunicorn worker", 5.0),
           (0, 3, "locust", 1.0), (10, 3, "locust", 3.0), (20, 3, "locust", 9.0)]  # t=20 is outside the span
    machine = [(0, 100.0), (10, 118.0)]
    cores = cpu_cores(cpu, machine, 0, 10)
    assert cores == {"gunicorn worker": 1.0, "locust": 0.2, "machine": 1.8}
    assert cpu_cell(cores, 2) == "workers 1.00 · locust 0.20 · machine 1.80 of 2"
