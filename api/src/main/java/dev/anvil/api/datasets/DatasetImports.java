package dev.anvil.api.datasets;

import dev.anvil.api.artifacts.Sha256Param;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetArchives;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.ImageDatasetImporter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.NpyHeader;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import dev.anvil.modelkit.datasets.ZipLimits;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.ModelSignature;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.storage.ObjectStore;
import dev.anvil.storage.StoredObject;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the model toolkit's importers over an upload saved to a private folder and says what came out. The
 * importers' {@link DatasetFormatException}s, which name the file's line and column or the archive entry,
 * become 422 problems.
 */
@ApplicationScoped
public class DatasetImports {
    @Inject AnvilConfig config;
    @Inject ArtifactStore artifacts;
    @Inject ObjectStore objects;

    /**
     * The dataset zip to store and its arrays.
     *
     * @param inputs  each input's dtype and one sample's shape, in archive order
     * @param classes the class names the labels index, when the importer knew them
     */
    record Imported(Path zip, Map<String, DeclaredInputs.Spec> inputs, long sampleCount, boolean hasLabels,
                    List<String> classes) {}

    Imported run(ImportRequest.Format format, ImportRequest request, Path upload, Path work) throws IOException {
        ZipLimits limits = new ZipLimits(config.datasets().maxArchiveEntries(), config.datasets().maxInflatedBytes());
        try {
            return switch (format) {
                case NPY -> npy(upload, limits);
                case MNIST -> written(DatasetArchives.mnist(upload, limits,
                        new MnistImporter(request.input("input_image")), work), List.of(), work);
                case CSV -> {
                    CsvDatasetImporter.ColumnRoles roles = request.columnRoles();
                    String input = request.input(CsvDatasetImporter.DEFAULT_INPUT);
                    Path csv = inflated(upload, work.resolve("body.csv"));
                    yield written(new CsvDatasetImporter(input, roles).read(csv), List.of(), work);
                }
                case TEXT -> text(request, upload, work);
                case IMAGES -> {
                    ImageDatasetImporter.Result result =
                            new ImageDatasetImporter(request.imageOptions()).read(upload, limits);
                    yield written(result.dataset(), result.classes(), work);
                }
            };
        } catch (DatasetFormatException e) {
            throw ProblemException.unprocessable("body", "the " + format.id() + " upload cannot be imported: "
                    + e.getMessage());
        }
    }

    /** 422 naming the first model input the dataset cannot feed; nothing when no model is named. */
    void checkModel(String sha256, Map<String, DeclaredInputs.Spec> inputs, Path work) throws IOException {
        if (sha256 == null || sha256.isBlank()) {
            return;
        }
        Path file = download("model", sha256, work.resolve("model.onnx"));
        ModelSignature signature;
        try {
            signature = OnnxModel.readSignature(file);
        } catch (InvalidModelException e) {
            throw ProblemException.unprocessable("model", "artifact " + sha256 + " is not an ONNX model: "
                    + e.getMessage());
        }
        DeclaredInputs.checkModel(sha256, signature, inputs);
    }

    private Imported text(ImportRequest request, Path upload, Path work) throws IOException {
        if (request.tokenizer == null || request.tokenizer.isBlank()) {
            throw ProblemException.badRequest("tokenizer", "format=text needs tokenizer, the sha256 of a Hugging Face"
                    + " tokenizer.json uploaded with POST /api/artifacts");
        }
        TextDatasetImporter.InputNames names = request.tokenInputs();
        TextDatasetImporter.TsvColumns columns = request.tsvColumns();
        int maxLength = request.maxLength();
        Path tokenizer = download("tokenizer", request.tokenizer, work.resolve("tokenizer.json"));
        Path tsv = inflated(upload, work.resolve("body.tsv"));
        try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer, maxLength, names, columns)) {
            return written(importer.read(tsv), List.of(), work);
        }
    }

    private Imported npy(Path upload, ZipLimits limits) throws IOException {
        DatasetArchives.Headers headers = DatasetArchives.checkDataset(upload, limits);
        Map<String, DeclaredInputs.Spec> inputs = new LinkedHashMap<>();
        // a constant input (dataset.json: batch_axis null) has no sample axis: its whole shape is what is fed
        headers.inputs().forEach((name, header) -> inputs.put(name, headers.manifest().isBatched(name) ? spec(header)
                : new DeclaredInputs.Spec(header.dtype().name().toLowerCase(Locale.ROOT),
                        Arrays.stream(header.shape()).boxed().toList())));
        return new Imported(upload, inputs, headers.sampleCount(), headers.labels().isPresent(), List.of());
    }

    private static Imported written(Dataset dataset, List<String> classes, Path work) throws IOException {
        Path zip = work.resolve("dataset.zip");
        DatasetWriter.write(zip, dataset);
        Map<String, DeclaredInputs.Spec> inputs = new LinkedHashMap<>();
        dataset.inputs().forEach((name, array) -> inputs.put(name, spec(array.header())));
        return new Imported(zip, inputs, dataset.sampleCount(), dataset.labels().isPresent(), classes);
    }

    private static DeclaredInputs.Spec spec(NpyHeader header) {
        return DeclaredInputs.spec(header.dtype().name().toLowerCase(Locale.ROOT), header.shape());
    }

    /** The upload gunzipped when it is gzip, bounded like an archive's inflated bytes. */
    private Path inflated(Path upload, Path out) throws IOException {
        DatasetArchives.gunzipBounded("the upload", upload, out, config.datasets().maxInflatedBytes());
        return out;
    }

    private Path download(String field, String sha256, Path file) throws IOException {
        String sha = Sha256Param.require(field, sha256);
        Artifact artifact = artifacts.find(sha).orElseThrow(() -> ProblemException.unprocessable(field,
                field + " artifact " + sha + " is not stored; upload it first with POST /api/artifacts"));
        objects.copyTo(new StoredObject(artifact.uri(), artifact.sha256(), artifact.sizeBytes(), artifact.mediaType()),
                file);
        return file;
    }
}
