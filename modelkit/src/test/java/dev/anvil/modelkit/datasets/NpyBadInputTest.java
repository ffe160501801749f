package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NpyBadInputTest {

    @Test
    void badMagicIsNamed() {
        byte[] bytes = "PK\u0003\u0004 not numpy".getBytes(StandardCharsets.ISO_8859_1);

        assertThatThrownBy(() -> NpyReader.read(new ByteArrayInputStream(bytes)))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("magic \\x93NUMPY").hasMessageContaining("504b0304");
    }

    @Test
    void unsupportedDescrListsTheSupportedOnes() {
        assertThatThrownBy(() -> read("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("unsupported npy descr '<c8'")
                .hasMessageContaining("[|u1, |b1, <i4, <i8, <f2, <f4, <f8]");
        assertThatThrownBy(() -> read("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"))
                .hasMessageContaining("structured dtypes are not supported");
    }

    @Test
    void fortranOrderIsRejected() {
        assertThatThrownBy(() -> read("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("fortran_order True").hasMessageContaining("ascontiguousarray");
    }

    @Test
    void bigEndianIsRejected() {
        assertThatThrownBy(() -> read("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("big-endian").hasMessageContaining("astype('<f4')");
    }

    @Test
    void truncatedDataGivesExpectedAndActualBytes() throws IOException {
        byte[] whole = NpyRoundTripTest.toBytes(NpyArray.ofFloat32(new long[] {4, 2}, new float[8]));
        byte[] cut = Arrays.copyOf(whole, whole.length - 5);

        assertThatThrownBy(() -> NpyReader.read(new ByteArrayInputStream(cut)))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("truncated").hasMessageContaining("expected 32 bytes, found 27");
    }

    @Test
    void truncatedDataIsReportedByTheBatchThatReachesIt() throws IOException {
        byte[] whole = NpyRoundTripTest.toBytes(NpyArray.ofFloat32(new long[] {4, 2}, new float[8]));
        byte[] cut = Arrays.copyOf(whole, whole.length - 5);

        try (NpyBatches batches = NpyReader.batches(new ByteArrayInputStream(cut), 2)) {
            assertThat(batches.next().sampleCount()).isEqualTo(2);
            assertThatThrownBy(batches::next)
                    .isInstanceOf(DatasetFormatException.class)
                    .hasMessageContaining("samples 2..3").hasMessageContaining("expected 16 bytes, found 11");
        }
    }

    @Test
    void overlongHeaderIsRejected() {
        ByteBuffer file = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        file.put(NpyHeader.MAGIC).put((byte) 2).put((byte) 0).putInt(50_000_000);

        assertThatThrownBy(() -> NpyReader.read(new ByteArrayInputStream(file.array())))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("header is 50000000 bytes, more than the 10000 allowed");
    }

    @Test
    void unknownVersionAndTruncatedHeaderAreNamed() {
        byte[] version3 = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 3, 0, 0, 0, 0, 0};
        assertThatThrownBy(() -> NpyReader.read(new ByteArrayInputStream(version3)))
                .hasMessageContaining("version 3.0, expected 1.0 or 2.0");
        byte[] shortHeader = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'};
        assertThatThrownBy(() -> NpyReader.read(new ByteArrayInputStream(shortHeader)))
                .hasMessageContaining("ends inside the npy header: expected 100 bytes, found 1");
    }

    private static NpyArray read(String dict) throws IOException {
        String padded = dict + "\n";
        ByteBuffer file = ByteBuffer.allocate(10 + padded.length() + 64).order(ByteOrder.LITTLE_ENDIAN);
        file.put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) padded.length());
        file.put(padded.getBytes(StandardCharsets.ISO_8859_1));
        return NpyReader.read(new ByteArrayInputStream(file.array()));
    }
}
