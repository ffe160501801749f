package dev.anvil.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Checks {@code deploy/k8s} without a cluster: every manifest kustomization.yaml lists is parsed, so an
 * unpinned image, a variable Anvil needs but no pod gets, a missing probe or a GPU worker without a GPU shows
 * up in the build instead of on the first {@code kubectl apply -k deploy/k8s}.
 */
class KubernetesManifestsTest {
    private static final String K8S = "deploy/k8s";
    private static final String API = "anvil-api";
    private static final String CPU_WORKER = "anvil-worker";
    private static final String GPU_WORKER = "anvil-worker-gpu";

    /** What every Anvil pod must be given (the rest have defaults fit for a cluster). */
    private static final List<String> EVERY_POD_NEEDS = List.of(
            "ANVIL_TEMPORAL_TARGET", "ANVIL_TEMPORAL_NAMESPACE",
            "ANVIL_S3_ENDPOINT", "ANVIL_S3_ACCESS_KEY", "ANVIL_S3_SECRET_KEY", "ANVIL_S3_BUCKET",
            "ANVIL_DB_URL", "ANVIL_DB_USER", "ANVIL_DB_PASSWORD", "ANVIL_DB_OWNER_USER", "ANVIL_DB_OWNER_PASSWORD",
            "ANVIL_PROVENANCE_KEY_FILE", "ANVIL_WORKER_WORKFLOW_CACHE_SIZE", "ANVIL_SCHEDULE_TO_START_TIMEOUT",
            "ANVIL_API_ENABLED", "ANVIL_WORKER_ENABLED");
    private static final List<String> WORKERS_NEED = List.of("ANVIL_WORKER_QUEUES", "ANVIL_WORKER_MAX_ACTIVITIES");
    private static final List<String> SECRET_ONLY = List.of(
            "ANVIL_S3_ACCESS_KEY", "ANVIL_S3_SECRET_KEY", "ANVIL_DB_PASSWORD", "ANVIL_DB_OWNER_PASSWORD");

    private static final Map<String, Map<String, Object>> byKindAndName = new LinkedHashMap<>();

    @BeforeAll
    static void load() throws IOException {
        Path dir = findProjectRoot().resolve(K8S);
        Map<String, Object> kustomization = single(dir.resolve("kustomization.yaml"));
        for (Object resource : list(kustomization.get("resources"), "kustomization.yaml resources")) {
            Path file = dir.resolve(String.valueOf(resource));
            assertThat(file).as("%s/kustomization.yaml lists %s", K8S, resource).isRegularFile();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                for (Object doc : new Yaml().loadAll(reader)) {
                    Map<String, Object> m = map(doc, file.toString());
                    byKindAndName.put(m.get("kind") + "/" + map(m.get("metadata"), "metadata").get("name"), m);
                }
            }
        }
    }

    @Test
    void theApiAndBothWorkersAreThereWithAnAutoscalerForCpuWorkers() {
        assertThat(byKindAndName).containsKeys("Deployment/" + API, "Deployment/" + CPU_WORKER,
                "Deployment/" + GPU_WORKER, "Service/" + API, "ConfigMap/anvil-config", "Secret/anvil-secrets",
                "HorizontalPodAutoscaler/" + CPU_WORKER);
        Map<String, Object> target = map(map(byKindAndName.get("HorizontalPodAutoscaler/" + CPU_WORKER).get("spec"),
                "hpa spec").get("scaleTargetRef"), "scaleTargetRef");
        assertThat(target).containsEntry("kind", "Deployment").containsEntry("name", CPU_WORKER);
    }

    @Test
    void imagesArePinnedToAVersion() {
        for (String name : List.of(API, CPU_WORKER, GPU_WORKER)) {
            String image = String.valueOf(container(name).get("image"));
            assertThat(image).as("%s image in %s", name, K8S)
                    .matches("[a-z0-9./-]+:[0-9][A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?")
                    .doesNotEndWith(":latest");
        }
    }

    @Test
    void everyPodGetsEveryVariableAnvilNeedsAndSecretsComeFromTheSecret() {
        Map<String, Object> config = stringMap(byKindAndName.get("ConfigMap/anvil-config").get("data"));
        Map<String, Object> secret = stringMap(byKindAndName.get("Secret/anvil-secrets").get("stringData"));
        for (String name : List.of(API, CPU_WORKER, GPU_WORKER)) {
            Set<String> present = new LinkedHashSet<>();
            for (Object from : list(container(name).get("envFrom"), name + " envFrom")) {
                Map<String, Object> f = map(from, "envFrom");
                if (f.containsKey("configMapRef")) {
                    assertThat(map(f.get("configMapRef"), "ref")).containsEntry("name", "anvil-config");
                    present.addAll(config.keySet());
                }
                if (f.containsKey("secretRef")) {
                    assertThat(map(f.get("secretRef"), "ref")).containsEntry("name", "anvil-secrets");
                    present.addAll(secret.keySet());
                }
            }
            Map<String, String> env = env(name);
            present.addAll(env.keySet());
            List<String> needed = new ArrayList<>(EVERY_POD_NEEDS);
            if (!name.equals(API)) {
                needed.addAll(WORKERS_NEED);
            }
            assertThat(present).as("variables %s gets in %s", name, K8S).containsAll(needed);
        }
        assertThat(config).as("passwords and keys belong in the Secret, not the ConfigMap")
                .doesNotContainKeys(SECRET_ONLY.toArray(String[]::new));
        assertThat(env(API)).containsEntry("ANVIL_API_ENABLED", "true").containsEntry("ANVIL_WORKER_ENABLED", "false");
        assertThat(env(CPU_WORKER)).containsEntry("ANVIL_API_ENABLED", "false").containsEntry("ANVIL_WORKER_QUEUES", "anvil-cpu");
        assertThat(env(GPU_WORKER)).containsEntry("ANVIL_API_ENABLED", "false").containsEntry("ANVIL_WORKER_QUEUES", "anvil-gpu");
    }

    @Test
    void everyPodHasLivenessAndReadinessProbesOnQuarkusHealth() {
        for (String name : List.of(API, CPU_WORKER, GPU_WORKER)) {
            Map<String, Object> c = container(name);
            assertThat(probePath(c, "livenessProbe", name)).isEqualTo("/q/health/live");
            assertThat(probePath(c, "readinessProbe", name)).isEqualTo("/q/health/ready");
        }
    }

    @Test
    void theGpuWorkerRequestsAGpuAndLandsOnGpuNodes() {
        Map<String, Object> resources = map(container(GPU_WORKER).get("resources"), "resources");
        assertThat(map(resources.get("limits"), "limits")).containsKey("nvidia.com/gpu");
        assertThat(String.valueOf(map(resources.get("limits"), "limits").get("nvidia.com/gpu"))).isEqualTo("1");
        Map<String, Object> pod = podSpec(GPU_WORKER);
        assertThat(pod).containsKeys("nodeSelector", "tolerations");
        assertThat(list(pod.get("tolerations"), "tolerations")).anySatisfy(t ->
                assertThat(map(t, "toleration")).containsEntry("key", "nvidia.com/gpu"));
        assertThat(map(container(CPU_WORKER).get("resources"), "resources").toString()).doesNotContain("nvidia.com/gpu");
    }

    private static String probePath(Map<String, Object> c, String probe, String name) {
        assertThat(c).as("%s has a %s", name, probe).containsKey(probe);
        return String.valueOf(map(map(c.get(probe), probe).get("httpGet"), probe + ".httpGet").get("path"));
    }

    private static Map<String, String> env(String deployment) {
        Map<String, String> env = new LinkedHashMap<>();
        Object list = container(deployment).get("env");
        if (list != null) {
            for (Object e : list(list, "env")) {
                Map<String, Object> m = map(e, "env entry");
                env.put(String.valueOf(m.get("name")), String.valueOf(m.get("value")));
            }
        }
        return env;
    }

    private static Map<String, Object> podSpec(String deployment) {
        Map<String, Object> d = byKindAndName.get("Deployment/" + deployment);
        assertThat(d).as("Deployment %s in %s", deployment, K8S).isNotNull();
        return map(map(map(d.get("spec"), "spec").get("template"), "template").get("spec"), "pod spec");
    }

    private static Map<String, Object> container(String deployment) {
        List<Object> containers = list(podSpec(deployment).get("containers"), deployment + " containers");
        assertThat(containers).as("%s runs one container", deployment).hasSize(1);
        return map(containers.get(0), "container");
    }

    private static Map<String, Object> stringMap(Object o) {
        return o == null ? Map.of() : map(o, "data");
    }

    private static Map<String, Object> single(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return map(new Yaml().load(reader), file.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map<?, ?>)) {
            return fail("%s is not a mapping: %s", what, o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, String what) {
        if (!(o instanceof List<?>)) {
            return fail("%s is not a list: %s", what, o);
        }
        return (List<Object>) o;
    }

    private static Path findProjectRoot() {
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve(K8S)) && Files.isRegularFile(dir.resolve("mvnw"))) {
                return dir;
            }
        }
        return fail("%s not found in %s or any parent; run the test from inside the repository", K8S, start);
    }
}
