package dev.anvil.modelkit.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed values; the p-values are checked against SciPy 1.17 (kstwobign.sf, chi2.sf, chisquare). */
class DriftStatisticsTest {
    @Test
    void psiOfAKnownShift() {
        // shares 0.5/0.5 against 0.25/0.75: -0.25 ln 0.5 + 0.25 ln 1.5
        assertEquals(0.2746530721670274, DriftStatistics.psi(new long[] {50, 50}, new long[] {25, 75}), 1e-12);
        assertEquals(0.0, DriftStatistics.psi(new long[] {10, 20, 30}, new long[] {1, 2, 3}), 1e-15);
    }

    @Test
    void psiFloorsAnEmptyBin() {
        // reference share 0 -> 1e-4: (0.5 - 1e-4) ln(0.5 / 1e-4) + (0.5 - 1) ln(0.5 / 1) ... with the other bin at 1.0
        double expected = (0.5 - 1e-4) * Math.log(0.5 / 1e-4) + (0.5 - 1.0) * Math.log(0.5 / 1.0);
        assertEquals(expected, DriftStatistics.psi(new long[] {0, 10}, new long[] {5, 5}), 1e-12);
    }

    @Test
    void ksOfDisjointSamples() {
        DriftStatistics.Ks ks = DriftStatistics.ks(new double[] {1, 2, 3, 4, 5}, new double[] {6, 7, 8, 9, 10});
        assertEquals(1.0, ks.statistic(), 0);
        // n_e = 2.5, lambda = (sqrt(2.5) + 0.12 + 0.11 / sqrt(2.5)) * 1; SciPy kstwobign.sf(lambda)
        assertEquals(0.003781354059370101, ks.pValue(), 1e-12);
    }

    @Test
    void ksOfOverlappingSamples() {
        DriftStatistics.Ks ks = DriftStatistics.ks(new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8},
                new double[] {0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 1.05});
        // the ECDFs differ most at 0.3 (3/8 vs 0) and at 0.8 (1 vs 5/8): D = 3/8, as SciPy's ks_2samp says
        assertEquals(0.375, ks.statistic(), 1e-15);
        assertEquals(0.5189424992880709, ks.pValue(), 1e-12);
        assertTrue(ks.pValue() > 0.05, "samples this close are not told apart");
    }

    @Test
    void ksCountsTiesOnce() {
        DriftStatistics.Ks same = DriftStatistics.ks(new double[] {1, 1, 2, 2}, new double[] {1, 2, 1, 2});
        assertEquals(0.0, same.statistic(), 0);
        assertEquals(1.0, same.pValue(), 0);
    }

    @Test
    void chiSquareSurvivalMatchesTables() {
        assertEquals(0.05, DriftStatistics.upperRegularizedGamma(0.5, 3.841458820694124 / 2), 1e-12);
        assertEquals(Math.exp(-5), DriftStatistics.upperRegularizedGamma(1, 5), 1e-14);
        assertEquals(0.186029833602867, DriftStatistics.upperRegularizedGamma(2.5, 3.75), 1e-12);
    }

    @Test
    void chiSquareOfClassCounts() {
        // (40-50)^2/50 + (40-30)^2/30 + 0 = 2 + 3.333...
        DriftStatistics.ChiSquare chi = DriftStatistics.chiSquare(new long[] {50, 30, 20}, new long[] {40, 40, 20});
        assertEquals(5.333333333333334, chi.statistic(), 1e-12);
        assertEquals(2, chi.degreesOfFreedom());
        assertEquals(0.0694834512228015, chi.pValue(), 1e-12);
    }

    @Test
    void badInputIsRefusedWithWhatIsWrong() {
        IllegalArgumentException bins = assertThrows(IllegalArgumentException.class,
                () -> DriftStatistics.psi(new long[] {1, 2}, new long[] {1, 2, 3}));
        assertTrue(bins.getMessage().contains("2 bins") && bins.getMessage().contains("3"), bins.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DriftStatistics.psi(new long[] {0, 0}, new long[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> DriftStatistics.ks(new double[0], new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> DriftStatistics.ks(new double[] {Double.NaN}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> DriftStatistics.chiSquare(new long[] {1}, new long[] {1}));
    }

    @Test
    void quantileBinsSplitTheReferenceEvenly() {
        Bins bins = Bins.quantiles(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5);
        assertEquals(List.of(2.0, 4.0, 6.0, 8.0), java.util.Arrays.stream(bins.edges()).boxed().toList());
        assertEquals(List.of(2L, 2L, 2L, 2L, 2L),
                java.util.Arrays.stream(bins.counts(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})).boxed().toList());
        // a constant feature collapses to one edge: two bins
        assertEquals(2, Bins.quantiles(new double[] {3, 3, 3, 3}, 10).count());
    }

    @Test
    void analysisNamesTheFeatureThatMoved() {
        int n = 500;
        double[][] reference = new double[2][n];
        double[][] live = new double[2][n];
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < n; i++) {
            reference[0][i] = random.nextGaussian();
            reference[1][i] = random.nextGaussian();
            live[0][i] = random.nextGaussian();
            live[1][i] = random.nextGaussian() + 1.0; // a one-sigma shift
        }
        List<DriftAnalysis.FeatureDrift> drift = DriftAnalysis.features(List.of("x[0]", "x[1]"), reference, live,
                DriftThresholds.DEFAULT);
        assertFalse(drift.get(0).drifted(), "psi " + drift.get(0).psi() + " p " + drift.get(0).ksPValue());
        assertTrue(drift.get(1).drifted());
        assertTrue(drift.get(1).psi() > 0.25, "a one-sigma shift is a large PSI: " + drift.get(1).psi());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> DriftAnalysis.features(List.of("a", "b"), reference, new double[3][n], DriftThresholds.DEFAULT));
        assertTrue(shape.getMessage().contains("2 features") && shape.getMessage().contains("3"), shape.getMessage());
    }

    @Test
    void reservoirKeepsAFixedUniformSample() {
        ReservoirSample<Integer> a = new ReservoirSample<>(100, 42);
        ReservoirSample<Integer> b = new ReservoirSample<>(100, 42);
        long sum = 0;
        for (int i = 0; i < 100_000; i++) {
            a.offer(i);
            b.offer(i);
        }
        assertEquals(100, a.snapshot().size());
        assertEquals(100_000, a.seen());
        assertEquals(a.snapshot(), b.snapshot(), "same seed, same stream, same sample");
        for (int v : a.snapshot()) {
            sum += v;
        }
        // uniform over 0..99999: the mean of 100 draws is 50000 +- 2900 (one sd); 4 sd is a loose bound
        assertEquals(50_000, sum / 100.0, 4 * 2_900);
        ReservoirSample<Integer> other = new ReservoirSample<>(100, 43);
        for (int i = 0; i < 100_000; i++) {
            other.offer(i);
        }
        assertFalse(a.snapshot().equals(other.snapshot()), "another seed draws another sample");
    }

    @Test
    void logHistogramBinsBySignAndDecade() {
        assertEquals(LogHistogram.SIDE, LogHistogram.indexOf(0.0));
        assertEquals(LogHistogram.SIDE + 1, LogHistogram.indexOf(0.001));
        assertEquals(LogHistogram.SIDE + 1 + 12, LogHistogram.indexOf(1.0)); // 3 decades above 1e-3, 4 per decade
        assertEquals(LogHistogram.SIDE - 1 - 12, LogHistogram.indexOf(-1.0));
        assertEquals(LogHistogram.BINS - 1, LogHistogram.indexOf(1e12));
        assertEquals(0, LogHistogram.indexOf(-1e12));
        assertEquals(1.0, LogHistogram.lowerEdge(LogHistogram.indexOf(1.0)), 1e-12);
    }
}
