package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The optional dataset.json: strict, and absent it every dataset means what it meant before. */
class DatasetManifestTest {
    @TempDir
    Path dir;

    static final NpyArray X = NpyArray.ofFloat32(new long[] {4, 3}, new float[12]);
    static final NpyArray H0 = NpyArray.ofFloat32(new long[] {4, 2, 8}, new float[64]);
    static final NpyArray SR = NpyArray.ofInt64(new long[0], new long[] {16000});

    Path zip(String json, Map<String, NpyArray> arrays) throws Exception {
        Path file = Files.createTempFile(dir, "dataset", ".zip");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            if (json != null) {
                zip.putNextEntry(new ZipEntry(DatasetManifest.ENTRY));
                zip.write(json.getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
            for (Map.Entry<String, NpyArray> array : arrays.entrySet()) {
                zip.putNextEntry(new ZipEntry(array.getKey() + ".npy"));
                NpyWriter.write(zip, array.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    Map<String, NpyArray> audio() {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("x", X);
        arrays.put("h0", H0);
        arrays.put("sr", SR);
        return arrays;
    }

    @Test
    void aManifestDeclaresBatchAxesConstantsAndState() throws Exception {
        Path file = zip("""
                {"inputs": {"h0": {"batch_axis": 1}, "sr": {"batch_axis": null}},
                 "state": {"h0": "hn"}, "sequence_length": 2}""", audio());
        try (DatasetReader reader = DatasetReader.open(file)) {
            DatasetManifest manifest = reader.manifest();
            assertThat(manifest.batchAxis("h0")).isEqualTo(1);
            assertThat(manifest.batchAxis("x")).isZero();
            assertThat(manifest.isBatched("sr")).isFalse();
            assertThat(manifest.state()).containsEntry("h0", new DatasetManifest.State("hn", DatasetManifest.Initial.DATASET));
            assertThat(manifest.sequenceLength()).hasValue(2);
            assertThat(reader.sampleCount()).isEqualTo(4);
            assertThat(reader.constant("sr")).isEqualTo(SR);
            assertThatThrownBy(() -> reader.batches("sr", 2)).hasMessageContaining("constant");
            Dataset dataset = reader.readAll();
            assertThat(dataset.manifest()).isEqualTo(manifest);
            // written back, it reads the same
            Path again = dir.resolve("again.zip");
            DatasetWriter.write(again, dataset);
            try (DatasetReader back = DatasetReader.open(again)) {
                assertThat(back.readAll()).isEqualTo(dataset);
            }
            assertThatThrownBy(() -> dataset.shuffled(1)).hasMessageContaining("stateful");
            assertThatThrownBy(() -> dataset.split(1)).hasMessageContaining("would cut a sequence of 2 steps");
            assertThat(dataset.split(2).get(1).inputs().get("sr")).isEqualTo(SR);
        }
    }

    @Test
    void constantsStayWholeWhenADatasetIsShuffledOrSplit() {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("x", NpyArray.ofFloat32(new long[] {4, 1}, new float[] {0, 1, 2, 3}));
        arrays.put("sr", SR);
        Dataset dataset = new Dataset(arrays, Optional.empty(), DatasetManifest.NONE.withBatchAxis("sr", null));
        Dataset shuffled = dataset.shuffled(5);
        assertThat(shuffled.inputs().get("sr")).isEqualTo(SR);
        assertThat(shuffled.split(1).get(1).sampleCount()).isEqualTo(3);
        assertThat(shuffled.split(1).get(1).inputs().get("sr")).isEqualTo(SR);
    }

    @Test
    void aDatasetWithoutManifestIsWrittenAndReadAsBefore() throws Exception {
        Dataset plain = new Dataset(Map.of("x", X), Optional.of(NpyArray.ofInt64(new long[] {4}, new long[4])));
        Path file = dir.resolve("plain.zip");
        DatasetWriter.write(file, plain);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            assertThat(zip.stream().map(ZipEntry::getName).toList()).containsExactly("x.npy", "labels.npy");
        }
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThat(reader.manifest()).isEqualTo(DatasetManifest.NONE);
            assertThat(reader.readAll()).isEqualTo(plain);
        }
        // a 0-d array still needs the manifest to say it is constant
        assertThatThrownBy(() -> DatasetReader.open(zip(null, audio()))).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("input 'sr' is a 0-d array")
                .hasMessageContaining("{\"inputs\": {\"sr\": {\"batch_axis\": null}}}");
    }

    @Test
    void badManifestsAreRefusedNamingTheEntryAndTheFix() throws Exception {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{\"inputs\": {\"h0\": {\"batch_axes\": 1}}, \"state\": {}}",
                "dataset.json: unknown key 'inputs.h0.batch_axes'; allowed here: [batch_axis]");
        cases.put("{\"input\": {}}", "dataset.json: unknown key 'input'; allowed here: [inputs, sequence_length, state]");
        cases.put("{\"inputs\": {\"c0\": {\"batch_axis\": 1}}, \"sr\": 1}", "unknown key 'sr'");
        cases.put("{\"inputs\": {\"c0\": {\"batch_axis\": 1}, \"sr\": {\"batch_axis\": null}}}",
                "dataset.json declares input 'c0' but the dataset has no c0.npy; it has [x, h0, sr]");
        cases.put("{\"inputs\": {\"h0\": {\"batch_axis\": 3}, \"sr\": {\"batch_axis\": null}}}",
                "dataset.json: inputs.h0.batch_axis is 3 but h0.npy has rank 3");
        cases.put("{\"inputs\": {\"h0\": {\"batch_axis\": -1}, \"sr\": {\"batch_axis\": null}}}",
                "inputs.h0.batch_axis is -1");
        cases.put("{\"inputs\": {\"h0\": {\"batch_axis\": \"1\"}}}", "inputs.h0.batch_axis is \"1\"; give an integer axis");
        cases.put("{\"inputs\": {\"h0\": {}}}", "inputs.h0 has no batch_axis");
        cases.put("{\"inputs\": {\"sr\": {\"batch_axis\": null}}, \"state\": {\"h0\": {\"output\": \"hn\", \"initial\": \"ones\"}}}",
                "state.h0.initial is \"ones\"; expected \"dataset\" (the input's array) or \"zeros\"");
        cases.put("{\"inputs\": {\"sr\": {\"batch_axis\": null}}, \"state\": {\"h0\": {\"output\": \"hn\", \"initial\": \"zeros\"}}}",
                "state input 'h0' starts from zeros, but the dataset also has h0.npy");
        cases.put("{\"inputs\": {\"sr\": {\"batch_axis\": null}}, \"state\": {\"h0\": {\"from\": \"hn\"}}}",
                "unknown key 'state.h0.from'");
        cases.put("{\"inputs\": {\"sr\": {\"batch_axis\": null}}, \"state\": {\"h0\": \"hn\"}, \"sequence_length\": 3}",
                "sequence_length is 3 but the dataset has 4 samples");
        cases.put("{\"inputs\": {\"sr\": {\"batch_axis\": null}}, \"sequence_length\": 2}",
                "sequence_length is given but no state is declared");
        cases.put("[1]", "dataset.json must be a JSON object");
        cases.put("{\"inputs\": ", "dataset.json is not valid JSON");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path file = zip(c.getKey(), audio());
            assertThatThrownBy(() -> DatasetReader.open(file)).as(c.getKey()).isInstanceOf(DatasetFormatException.class)
                    .hasMessageContaining(c.getValue());
        }
    }

    @Test
    void everyInputConstantLeavesNoSamples() throws Exception {
        Path file = zip("{\"inputs\": {\"sr\": {\"batch_axis\": null}}}", Map.of("sr", SR));
        assertThatThrownBy(() -> DatasetReader.open(file)).hasMessageContaining("has no samples");
    }

    @Test
    void theSampleAxisMovesToTheBatchAxis() {
        // samples [s][a][c] = 100 s + 10 a + c, stored sample-first [3, 2, 2]
        float[] values = new float[12];
        for (int s = 0; s < 3; s++) {
            for (int a = 0; a < 2; a++) {
                for (int c = 0; c < 2; c++) {
                    values[s * 4 + a * 2 + c] = 100 * s + 10 * a + c;
                }
            }
        }
        NpyArray stored = NpyArray.ofFloat32(new long[] {3, 2, 2}, values);
        NpyArray axis1 = stored.moveFirstAxisTo(1);
        assertThat(axis1.shape()).containsExactly(2, 3, 2);
        assertThat(axis1.toFloatArray()).containsExactly(0, 1, 100, 101, 200, 201, 10, 11, 110, 111, 210, 211);
        NpyArray axis2 = stored.moveFirstAxisTo(2);
        assertThat(axis2.shape()).containsExactly(2, 2, 3);
        assertThat(axis2.toFloatArray()).containsExactly(0, 100, 200, 1, 101, 201, 10, 110, 210, 11, 111, 211);
        assertThat(stored.moveFirstAxisTo(0)).isSameAs(stored);
    }

    @Test
    void boolAndFloat16ArraysReadAndWrite() throws Exception {
        NpyArray flags = NpyArray.ofBool(new long[] {3}, new boolean[] {true, false, true});
        Path file = dir.resolve("flags.npy");
        NpyWriter.write(file, flags);
        assertThat(NpyReader.read(file)).isEqualTo(flags);
        assertThat(flags.getDouble(2)).isEqualTo(1.0);
        assertThat(NpyDtype.fromDescr("|b1")).isEqualTo(NpyDtype.BOOL);
        assertThat(NpyDtype.fromDescr("<f2")).isEqualTo(NpyDtype.FLOAT16);
        NpyArray half = new NpyArray(NpyDtype.FLOAT16, new long[] {1}, new byte[] {0x00, 0x3c}); // 1.0
        assertThat(half.getDouble(0)).isEqualTo(1.0);
        // bool cannot be labels
        Map<String, NpyArray> arrays = Map.of("x", NpyArray.ofFloat32(new long[] {3}, new float[3]));
        assertThatThrownBy(() -> new Dataset(arrays, Optional.of(flags))).hasMessageContaining("labels.npy must be");
    }
}
