package dev.anvil.modelkit.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TensorStatsTest {

    @Test
    void aDirectBufferReadInSlicesGivesTheSameStateAsOneHeapArray() {
        // 3 slices' worth with a last axis (384) that does not divide the slice length, and ReLU-like zeros;
        // the largest magnitude comes first so the histogram's range is fixed from the first slice
        int n = 3 * 16 * 1024 + 1000;
        float[] values = reluLike(n, 7);
        values[0] = 9.5f;
        TensorStats heap = new TensorStats(TensorStats.DEFAULT_BINS).withChannels();
        heap.add(FloatBuffer.wrap(values), 384);
        TensorStats direct = new TensorStats(TensorStats.DEFAULT_BINS).withChannels();
        direct.add(directCopy(values), 384);

        TensorStats.Snapshot a = heap.snapshot();
        TensorStats.Snapshot b = direct.snapshot();
        assertThat(b.min()).isEqualTo(a.min());
        assertThat(b.max()).isEqualTo(9.5);
        assertThat(b.count()).isEqualTo(n);
        assertThat(b.zeros()).isEqualTo(a.zeros()).isPositive();
        assertThat(b.upper()).isEqualTo(a.upper());
        assertThat(b.histogram()).isEqualTo(a.histogram());
        assertThat(b.channelMin()).isEqualTo(a.channelMin()).hasSize(384);
        assertThat(b.channelMax()).isEqualTo(a.channelMax());
        assertThat(java.util.Arrays.stream(b.histogram()).sum()).isEqualTo(n);
    }

    @Test
    void perChannelExtremesFollowTheLastAxisAcrossSlices() {
        int channels = 3;
        int rows = 10_000; // 30,000 values: the slice boundary at 16,384 falls inside a row
        float[] v = new float[rows * channels];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < channels; c++) {
                v[r * channels + c] = (c + 1) * (r % 2 == 0 ? 1f : -1f) * (r == rows - 1 ? 10 : 1);
            }
        }
        TensorStats s = new TensorStats(0).withChannels();
        s.add(directCopy(v), channels);
        assertThat(s.channelMax()).containsExactly(1, 2, 3);
        assertThat(s.channelMin()).containsExactly(-10, -20, -30);
    }

    @Test
    void zerosAreCountedInTheFirstBinAndAsZeros() {
        TensorStats s = new TensorStats(16);
        s.add(new float[] {0, 0, 0, 1.6f, -0.05f});
        assertThat(s.snapshot().zeros()).isEqualTo(3);
        // upper 1.6 over 16 bins: bin 0 holds the three zeros and -0.05, the top bin holds 1.6
        assertThat(s.snapshot().histogram()[0]).isEqualTo(4);
        assertThat(s.snapshot().histogram()[15]).isEqualTo(1);
        assertThat(s.count()).isEqualTo(5);
    }

    @Test
    void growingTheRangeMergesBinsWithoutLosingCounts() {
        TensorStats s = new TensorStats(16);
        s.add(new float[] {0.1f, 0.5f, 1f});
        s.add(new float[] {3.9f});
        assertThat(s.upper()).isEqualTo(4.0);
        long[] h = s.snapshot().histogram();
        assertThat(java.util.Arrays.stream(h).sum()).isEqualTo(4);
        assertThat(h[15]).isEqualTo(1); // 3.9 at the top of [0, 4)
        assertThat(h[0]).isEqualTo(1); // 0.1 below 0.25
    }

    @Test
    void nanOrInfinityIsRefused() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            TensorStats s = new TensorStats(TensorStats.DEFAULT_BINS).withChannels();
            float[] v = reluLike(1000, 3);
            v[500] = bad;
            assertThatThrownBy(() -> s.add(directCopy(v), 10))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("NaN or infinite");
        }
    }

    private static float[] reluLike(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.max(0, r.nextGaussian());
        }
        return v;
    }

    private static FloatBuffer directCopy(float[] v) {
        FloatBuffer b = ByteBuffer.allocateDirect(v.length * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(v).flip();
        return b;
    }
}
