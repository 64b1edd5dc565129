import pytest
from django.test import SimpleTestCase

from bench.stats import percentile, summary


class PercentileTests(SimpleTestCase):
    def test_median_of_an_even_count_is_the_mean_of_the_middle_pair(self):
        values = [4, 1, 3, 2]

        result = percentile(values, 50)

        assert result == 2.5

    def test_interpolates_between_the_nearest_ranks(self):
        values = list(range(1, 11))

        result = percentile(values, 95)

        assert result == pytest.approx(9.55)

    def test_ends_are_the_minimum_and_maximum(self):
        values = [7, 3, 9]

        assert (percentile(values, 0), percentile(values, 100)) == (3, 9)

    def test_refuses_an_empty_sequence(self):
        with pytest.raises(ValueError):
            percentile([], 50)

    def test_refuses_a_percentile_outside_0_to_100(self):
        with pytest.raises(ValueError):
            percentile([1], 101)


class SummaryTests(SimpleTestCase):
    def test_counts_and_summarises(self):
        values = [10, 20, 30, 40, 50]

        result = summary(values)

        assert result == {"count": 5, "p50": 30, "p95": 48, "max": 50}
