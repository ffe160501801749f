package dev.anvil.modelkit.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void edgesAreTenPerDecadeRoundedToFourDigits() {
        assertThat(LatencyHistogram.edge(0)).isEqualTo(1.0);
        assertThat(LatencyHistogram.edge(1)).isEqualTo(1.259);
        assertThat(LatencyHistogram.edge(5)).isEqualTo(3.162);
        assertThat(LatencyHistogram.edge(10)).isEqualTo(10.0);
        assertThat(LatencyHistogram.edge(-30)).isEqualTo(0.001);
        assertThat(LatencyHistogram.edge(-1)).isEqualTo(0.7943);
    }

    @Test
    void aValueOnAnEdgeBelongsToTheBucketItOpens() {
        assertThat(LatencyHistogram.bucket(1.0)).isEqualTo(0);
        assertThat(LatencyHistogram.bucket(1.2589)).isEqualTo(0);
        assertThat(LatencyHistogram.bucket(1.259)).isEqualTo(1);
        assertThat(LatencyHistogram.bucket(10.0)).isEqualTo(10);
        assertThat(LatencyHistogram.bucket(9.999)).isEqualTo(9);
        for (int i = LatencyHistogram.LOWEST; i < LatencyHistogram.HIGHEST; i++) {
            assertThat(LatencyHistogram.bucket(LatencyHistogram.edge(i))).as("edge %d", i).isEqualTo(i);
        }
    }

    @Test
    void outOfRangeValuesCountInTheEndBuckets() {
        assertThat(LatencyHistogram.bucket(0)).isEqualTo(LatencyHistogram.LOWEST);
        assertThat(LatencyHistogram.bucket(-1)).isEqualTo(LatencyHistogram.LOWEST);
        assertThat(LatencyHistogram.bucket(Double.NaN)).isEqualTo(LatencyHistogram.LOWEST);
        assertThat(LatencyHistogram.bucket(1e9)).isEqualTo(LatencyHistogram.HIGHEST - 1);
        assertThat(LatencyHistogram.of(List.of(0.0, 1e9)).total()).isEqualTo(2);
    }

    @Test
    void keepsOnlyTheSpanFromTheFirstToTheLastNonEmptyBucket() {
        LatencyHistogram h = LatencyHistogram.of(List.of(1.1, 1.2, 1.3, 2.6, 1.05));
        // buckets [1, 1.259): 3, [1.259, 1.585): 1, [1.585, 1.995): 0, [1.995, 2.512): 0, [2.512, 3.162): 1
        assertThat(h.edgesMs()).containsExactly(1.0, 1.259, 1.585, 1.995, 2.512, 3.162);
        assertThat(h.counts()).containsExactly(3L, 1L, 0L, 0L, 1L);
        assertThat(h.total()).isEqualTo(5);
    }

    @Test
    void manyBatchesStayCompact() {
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            millis.add(0.5 + (i % 1000) / 100.0);
        }
        LatencyHistogram h = LatencyHistogram.of(millis);
        assertThat(h.total()).isEqualTo(100_000);
        assertThat(h.counts()).hasSizeLessThan(20);
        assertThat(h.edgesMs().get(0)).isLessThanOrEqualTo(0.5);
        assertThat(h.edgesMs().get(h.edgesMs().size() - 1)).isGreaterThan(10.49);
    }

    @Test
    void noBatchesNoHistogramAndTheReportLeavesItOut() {
        assertThat(LatencyHistogram.of(List.of())).isNull();
        assertThat(ModelEvaluator.latencyJson(ModelEvaluator.latency(List.of(), 0))).doesNotContainKey("histogram");
        assertThatThrownBy(() -> new LatencyHistogram(List.of(1.0), List.of(1L)))
                .hasMessageContaining("one more edge than counts");
    }

    @Test
    void theReportCarriesTheQuartilesAsTheSpread() {
        Map<String, Object> json = ModelEvaluator.latencyJson(ModelEvaluator.latency(List.of(1.0, 2.0, 3.0, 4.0,
                5.0, 6.0, 7.0, 8.0), 0));
        assertThat(json).containsEntry("p25", 2.0).containsEntry("p50", 4.0).containsEntry("p75", 6.0);
    }

    @Test
    void theReportCarriesEdgesAndCountsBesideThePercentiles() {
        Map<String, Object> json = ModelEvaluator.latencyJson(ModelEvaluator.latency(List.of(2.0, 2.1, 5.0), 0));
        assertThat(json).containsKeys("p50", "p95", "p99", "mean", "batches", "histogram");
        @SuppressWarnings("unchecked")
        Map<String, Object> h = (Map<String, Object>) json.get("histogram");
        assertThat(h.keySet()).containsExactly("edges", "counts");
        assertThat((List<?>) h.get("counts")).hasSize(((List<?>) h.get("edges")).size() - 1);
    }
}
