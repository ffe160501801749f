package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NpyRoundTripTest {

    static Stream<NpyArray> arrays() {
        return Stream.of(
                NpyArray.ofUint8(new long[] {2, 3}, new byte[] {0, 1, 127, (byte) 128, (byte) 200, (byte) 255}),
                NpyArray.ofInt32(new long[] {3}, new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}),
                NpyArray.ofInt64(new long[] {2, 1}, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}),
                NpyArray.ofFloat32(new long[] {2, 1, 2, 2}, new float[] {0f, -1.5f, Float.NaN, 3e38f, 1e-40f, 7, 8, 9}),
                NpyArray.ofFloat64(new long[] {1, 2}, new double[] {Math.PI, -0.0}),
                NpyArray.ofFloat32(new long[] {0, 4}, new float[0]),
                NpyArray.ofInt64(new long[] {}, new long[] {42}));
    }

    @ParameterizedTest
    @MethodSource("arrays")
    void everyDtypeSurvivesWriteAndRead(NpyArray array) throws IOException {
        byte[] bytes = toBytes(array);

        NpyArray back = NpyReader.read(new ByteArrayInputStream(bytes));

        assertThat(back).isEqualTo(array);
        assertThat(back.dtype()).isEqualTo(array.dtype());
        assertThat(back.shape()).containsExactly(array.shape());
    }

    @ParameterizedTest
    @MethodSource("arrays")
    void dataStartsOnA64ByteBoundaryAfterAPaddedHeader(NpyArray array) throws IOException {
        byte[] bytes = toBytes(array);
        int headerLength = Short.toUnsignedInt(ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort());
        int dataStart = 10 + headerLength;

        assertThat(dataStart % 64).isZero();
        assertThat(bytes.length - dataStart).isEqualTo(array.data().length);
        assertThat(bytes[dataStart - 1]).isEqualTo((byte) '\n');
        assertThat(bytes[6]).isEqualTo((byte) 1);
        assertThat(bytes[7]).isEqualTo((byte) 0);
    }

    @Test
    void headerIsTheDictNumpyWrites() throws IOException {
        byte[] bytes = toBytes(NpyArray.ofFloat32(new long[] {3, 1, 28, 28}, new float[3 * 28 * 28]));
        String header = new String(bytes, 10, 118, StandardCharsets.ISO_8859_1);

        assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 28, 28), }");
        assertThat(toBytes(NpyArray.ofInt64(new long[] {5}, new long[5])))
                .asString(StandardCharsets.ISO_8859_1).contains("'shape': (5,), }");
    }

    @Test
    void readsVersion2HeadersAndNumpyByteOrderSpellings() throws IOException {
        String dict = "{'descr': '<u1', 'fortran_order': False, 'shape': (2L, 2L), }\n";
        ByteBuffer file = ByteBuffer.allocate(12 + dict.length() + 4).order(ByteOrder.LITTLE_ENDIAN);
        file.put(NpyHeader.MAGIC).put((byte) 2).put((byte) 0).putInt(dict.length());
        file.put(dict.getBytes(StandardCharsets.ISO_8859_1)).put(new byte[] {1, 2, 3, (byte) 250});

        NpyArray array = NpyReader.read(new ByteArrayInputStream(file.array()));

        assertThat(array.dtype()).isEqualTo(NpyDtype.UINT8);
        assertThat(array.shape()).containsExactly(2, 2);
        assertThat(array.getDouble(3)).isEqualTo(250.0);
    }

    @Test
    void streamsBatchesAlongTheFirstAxis() throws IOException {
        int[] values = new int[10 * 3];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        NpyArray array = NpyArray.ofInt32(new long[] {10, 3}, values);

        List<NpyArray> batches = new ArrayList<>();
        try (NpyBatches iterator = NpyReader.batches(new ByteArrayInputStream(toBytes(array)), 4)) {
            assertThat(iterator.sampleCount()).isEqualTo(10);
            iterator.forEachRemaining(batches::add);
        }

        assertThat(batches).extracting(NpyArray::sampleCount).containsExactly(4L, 4L, 2L);
        assertThat(batches.get(2).shape()).containsExactly(2, 3);
        assertThat(batches.get(2).toIntArray()).containsExactly(24, 25, 26, 27, 28, 29);
        assertThat(batches.stream().flatMapToInt(b -> java.util.Arrays.stream(b.toIntArray())).toArray())
                .containsExactly(values);
    }

    @Test
    void typedViewsAndSampleTakingAgree() {
        NpyArray array = NpyArray.ofFloat64(new long[] {3, 2}, new double[] {0, 1, 10, 11, 20, 21});

        NpyArray taken = array.takeSamples(new int[] {2, 0});

        assertThat(taken.toDoubleArray()).containsExactly(20, 21, 0, 1);
        assertThat(taken.sampleBytes()).isEqualTo(16);
        assertThat(NpyArray.ofInt64(new long[] {1}, new long[] {Long.MAX_VALUE}).getLong(0)).isEqualTo(Long.MAX_VALUE);
        assertThat(NpyArray.ofUint8(new long[] {1}, new byte[] {(byte) 255}).getLong(0)).isEqualTo(255);
    }

    static byte[] toBytes(NpyArray array) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NpyWriter.write(out, array);
        return out.toByteArray();
    }
}
