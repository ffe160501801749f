package dev.anvil.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Checks the production-like stack in {@code docker-compose.yml} without Docker: the file is parsed,
 * not started, so a wrong host name, a missing variable or an unpinned image shows up in every build
 * instead of on the first {@code docker compose up}.
 */
class ComposeFileTest {

    private static final String COMPOSE_FILE = "docker-compose.yml";
    private static final String API = "anvil-api";
    private static final String WORKER = "anvil-worker";
    private static final List<String> ANVIL_SERVICES = List.of(API, WORKER);

    /** The variables the application reads; deploy/devstack sets the same ones locally. */
    private static final List<String> ANVIL_VARIABLES = List.of(
            "ANVIL_TEMPORAL_TARGET",
            "ANVIL_TEMPORAL_NAMESPACE",
            "ANVIL_S3_ENDPOINT",
            "ANVIL_S3_ACCESS_KEY",
            "ANVIL_S3_SECRET_KEY",
            "ANVIL_S3_BUCKET",
            "ANVIL_DB_URL",
            "ANVIL_DB_USER",
            "ANVIL_DB_PASSWORD",
            "ANVIL_DB_OWNER_USER",
            "ANVIL_DB_OWNER_PASSWORD",
            "ANVIL_PROVENANCE_KEY_FILE");

    private static final int TEMPORAL_FRONTEND_PORT = 7233;
    private static final int MINIO_API_PORT = 9000;
    private static final int POSTGRES_PORT = 5432;
    private static final int ANVIL_HTTP_PORT = 8080;
    private static final Set<String> TEMPORAL_DATABASES = Set.of("temporal", "temporal_visibility");

    private static final Predicate<ImageRef> TEMPORAL_SERVER =
            image -> image.name().equals("temporalio/auto-setup") || image.name().equals("temporalio/server");
    private static final Predicate<ImageRef> TEMPORAL_UI = image -> image.name().equals("temporalio/ui");
    private static final Predicate<ImageRef> POSTGRES = image -> image.lastSegment().startsWith("postgres");
    private static final Predicate<ImageRef> MINIO = image -> image.name().equals("minio/minio");

    private static final Pattern JDBC_POSTGRES_URL =
            Pattern.compile("jdbc:postgresql://([^:/?]+)(?::(\\d+))?/([^?]+)(?:\\?.*)?");
    private static final Pattern INTERPOLATION_WITH_DEFAULT =
            Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)}");

    private static Path projectRoot;
    private static Path composeFile;
    private static Map<String, Object> compose;
    private static Map<String, Map<String, Object>> services;

    @BeforeAll
    static void loadComposeFile() throws IOException {
        projectRoot = findProjectRoot();
        composeFile = projectRoot.resolve(COMPOSE_FILE);
        try (Reader reader = Files.newBufferedReader(composeFile, StandardCharsets.UTF_8)) {
            Object document = new Yaml().load(reader);
            assertThat(document).as("%s must be a YAML mapping", composeFile).isInstanceOf(Map.class);
            compose = asMap(document, "top level of " + COMPOSE_FILE);
        }
        Map<String, Object> rawServices = asMap(compose.get("services"), "services");
        assertThat(rawServices).as("%s declares no services", composeFile).isNotEmpty();
        services = new LinkedHashMap<>();
        rawServices.forEach((name, definition) -> services.put(name, asMap(definition, "service " + name)));
    }

    @Test
    void definesEveryServiceAnvilNeeds() {
        assertThat(services.keySet())
                .as("%s must define the Anvil services %s (found %s)", COMPOSE_FILE, ANVIL_SERVICES, services.keySet())
                .containsAll(ANVIL_SERVICES);
        assertThat(servicesRunning(TEMPORAL_SERVER))
                .as("%s has no Temporal server: add a service with image temporalio/auto-setup:<version>", COMPOSE_FILE)
                .isNotEmpty();
        assertThat(servicesRunning(TEMPORAL_UI))
                .as("%s has no Temporal UI: add a service with image temporalio/ui:<version>", COMPOSE_FILE)
                .isNotEmpty();
        assertThat(servicesRunning(POSTGRES))
                .as("%s has no PostgreSQL service: add one with image postgres:<version>", COMPOSE_FILE)
                .isNotEmpty();
        assertThat(servicesRunning(MINIO))
                .as("%s has no MinIO service: add one with image minio/minio:RELEASE.<date>", COMPOSE_FILE)
                .isNotEmpty();
    }

    @Test
    void pinsEveryImageToAVersion() {
        List<String> problems = new ArrayList<>();
        services.forEach((name, service) -> {
            Object image = service.get("image");
            if (image == null) {
                if (!service.containsKey("build")) {
                    problems.add(name + ": has neither image nor build");
                }
                return;
            }
            String reference = resolveDefaults(String.valueOf(image));
            if (reference.contains("$")) {
                problems.add(name + ": image '" + image + "' comes from a variable without a pinned ${VAR:-default}");
                return;
            }
            ImageRef.parse(reference).pinProblem().ifPresent(p -> problems.add(name + ": image '" + image + "' " + p));
        });
        assertThat(problems)
                .as("every image in %s must name an exact version (a :tag other than latest, or an @sha256 digest)",
                        COMPOSE_FILE)
                .isEmpty();
    }

    @Test
    void everyLongRunningServiceHasAHealthcheck() {
        Set<String> oneShots = oneShotServices();
        List<String> missing = new ArrayList<>();
        services.forEach((name, service) -> {
            if (oneShots.contains(name)) {
                return;
            }
            Object healthcheck = service.get("healthcheck");
            if (!(healthcheck instanceof Map<?, ?> check)) {
                missing.add(name + ": no healthcheck");
            } else if (Boolean.TRUE.equals(check.get("disable")) || "true".equals(String.valueOf(check.get("disable")))) {
                missing.add(name + ": healthcheck disabled");
            } else if (healthcheckCommand(service).isBlank() || healthcheckCommand(service).startsWith("NONE")) {
                missing.add(name + ": healthcheck has no test command");
            }
        });
        assertThat(missing)
                .as("long-running services need a healthcheck so that depends_on: service_healthy means ready "
                        + "(one-shot services, awaited with service_completed_successfully, are exempt: %s)", oneShots)
                .isEmpty();
    }

    @Test
    void environmentValuesAreStrings() {
        List<String> problems = new ArrayList<>();
        services.forEach((name, service) -> {
            if (service.get("environment") instanceof Map<?, ?> environment) {
                environment.forEach((key, value) -> {
                    if (value instanceof Boolean) {
                        problems.add(name + "." + key + ": YAML boolean " + value + ", write \"" + value + "\"");
                    }
                });
            }
        });
        assertThat(problems)
                .as("Compose rejects or rewrites unquoted booleans in environment; quote them")
                .isEmpty();
    }

    @Test
    void apiAndWorkerSetEveryAnvilVariable() {
        for (String serviceName : ANVIL_SERVICES) {
            Map<String, String> environment = environment(serviceName);
            List<String> missing = ANVIL_VARIABLES.stream()
                    .filter(variable -> environment.get(variable) == null || environment.get(variable).isBlank())
                    .toList();
            assertThat(missing).as("%s in %s lacks Anvil variables (set them in the x-anvil-env anchor)",
                    serviceName, COMPOSE_FILE).isEmpty();
        }
        Map<String, String> api = environment(API);
        Map<String, String> worker = environment(WORKER);
        for (String variable : ANVIL_VARIABLES) {
            assertThat(worker.get(variable))
                    .as("%s differs between %s and %s; API and worker must reach the same Temporal, S3 and database",
                            variable, API, WORKER)
                    .isEqualTo(api.get(variable));
        }
    }

    /**
     * Workers sign provenance and the API verifies it before every rollout: with a key each (local mode's
     * generated one) nothing a worker built could ever be rolled out.
     */
    @Test
    void apiAndWorkerShareOneProvenanceKey() {
        String keyFile = environment(API).get("ANVIL_PROVENANCE_KEY_FILE");
        assertThat(keyFile).as("ANVIL_PROVENANCE_KEY_FILE in %s", API).startsWith("/run/secrets/");
        String secret = keyFile.substring("/run/secrets/".length());
        for (String serviceName : ANVIL_SERVICES) {
            assertThat(services.get(serviceName).get("secrets"))
                    .as("%s must mount the secret %s that ANVIL_PROVENANCE_KEY_FILE names", serviceName, secret)
                    .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST).contains(secret);
        }
        Map<String, Object> secrets = asMap(compose.get("secrets"), "secrets");
        assertThat(asMap(secrets.get(secret), "secret " + secret).get("file"))
                .as("the secret %s must be a file (the PEM made with openssl genpkey)", secret).isNotNull();
    }

    @Test
    void apiAndWorkerTakeTheirRoles() {
        assertThat(environment(API).get("ANVIL_WORKER_ENABLED"))
                .as("%s must set ANVIL_WORKER_ENABLED: \"false\"; workflows run in %s", API, WORKER)
                .isEqualTo("false");
        assertThat(environment(WORKER).get("ANVIL_API_ENABLED"))
                .as("%s must set ANVIL_API_ENABLED: \"false\"; it serves no REST API", WORKER)
                .isEqualTo("false");
        assertThat(environment(WORKER).get("ANVIL_WORKER_ENABLED"))
                .as("%s must set ANVIL_WORKER_ENABLED: \"true\"", WORKER)
                .isEqualTo("true");
    }

    @Test
    void temporalTargetIsTheTemporalServer() {
        String target = environment(API).get("ANVIL_TEMPORAL_TARGET");
        HostPort address = HostPort.parse(target, "ANVIL_TEMPORAL_TARGET");
        Map<String, Object> temporal = serviceNamed(address.host(),
                "ANVIL_TEMPORAL_TARGET '" + target + "' names host '" + address.host() + "'");
        assertThat(image(temporal)).as("ANVIL_TEMPORAL_TARGET host '%s' must run a Temporal server image (found %s)",
                address.host(), temporal.get("image")).matches(TEMPORAL_SERVER);
        assertThat(address.port()).as("ANVIL_TEMPORAL_TARGET '%s' must use the frontend gRPC port %d",
                target, TEMPORAL_FRONTEND_PORT).isEqualTo(TEMPORAL_FRONTEND_PORT);
        assertThat(containerPorts(temporal))
                .as("service '%s' must publish or expose %d (ports: or expose:), the port Anvil dials",
                        address.host(), TEMPORAL_FRONTEND_PORT)
                .contains(TEMPORAL_FRONTEND_PORT);

        String namespace = environment(API).get("ANVIL_TEMPORAL_NAMESPACE");
        String registered = Optional.ofNullable(environment(address.host()).get("DEFAULT_NAMESPACE")).orElse("default");
        assertThat(namespace)
                .as("ANVIL_TEMPORAL_NAMESPACE must be the namespace %s registers at start-up (DEFAULT_NAMESPACE)",
                        address.host())
                .isEqualTo(registered);
    }

    @Test
    void temporalUiWatchesTheSameServer() {
        for (String ui : servicesRunning(TEMPORAL_UI)) {
            assertThat(environment(ui).get("TEMPORAL_ADDRESS"))
                    .as("%s TEMPORAL_ADDRESS must be the server Anvil uses (ANVIL_TEMPORAL_TARGET)", ui)
                    .isEqualTo(environment(API).get("ANVIL_TEMPORAL_TARGET"));
        }
    }

    @Test
    void temporalServerPersistsToAHealthyPostgres() {
        for (String temporal : servicesRunning(TEMPORAL_SERVER)) {
            Map<String, String> environment = environment(temporal);
            assertThat(environment.get("DB"))
                    .as("%s must use PostgreSQL persistence (DB: postgres12)", temporal)
                    .isIn("postgres12", "postgres12_pgx");
            String seed = environment.get("POSTGRES_SEEDS");
            Map<String, Object> database = serviceNamed(seed, temporal + " POSTGRES_SEEDS '" + seed + "'");
            assertThat(image(database)).as("%s POSTGRES_SEEDS '%s' must run PostgreSQL", temporal, seed).matches(POSTGRES);
            assertThat(environment.get("POSTGRES_USER"))
                    .as("%s POSTGRES_USER must be the user that %s creates", temporal, seed)
                    .isEqualTo(postgresUser(seed));
            assertThat(environment.get("POSTGRES_PWD"))
                    .as("%s POSTGRES_PWD must be %s's POSTGRES_PASSWORD", temporal, seed)
                    .isEqualTo(environment(seed).get("POSTGRES_PASSWORD"));
            assertThat(dependsOn(temporal))
                    .as("%s must wait for its database: depends_on: %s: condition: service_healthy", temporal, seed)
                    .containsEntry(seed, "service_healthy");
        }
    }

    @Test
    void s3EndpointIsMinio() {
        Map<String, String> anvil = environment(API);
        String endpoint = anvil.get("ANVIL_S3_ENDPOINT");
        URI uri = URI.create(endpoint);
        assertThat(uri.getHost()).as("ANVIL_S3_ENDPOINT '%s' must be an http URL with a host", endpoint).isNotNull();
        String minio = uri.getHost();
        Map<String, Object> minioService = serviceNamed(minio, "ANVIL_S3_ENDPOINT '" + endpoint + "' names host '" + minio + "'");
        assertThat(image(minioService)).as("ANVIL_S3_ENDPOINT host '%s' must run minio/minio (found %s)",
                minio, minioService.get("image")).matches(MINIO);
        assertThat(uri.getPort()).as("ANVIL_S3_ENDPOINT '%s' must name MinIO's S3 API port %d explicitly",
                endpoint, MINIO_API_PORT).isEqualTo(MINIO_API_PORT);

        Map<String, String> minioEnvironment = environment(minio);
        assertThat(anvil.get("ANVIL_S3_ACCESS_KEY"))
                .as("ANVIL_S3_ACCESS_KEY must equal %s's MINIO_ROOT_USER (same ${VAR:-default})", minio)
                .isEqualTo(minioEnvironment.get("MINIO_ROOT_USER"));
        assertThat(anvil.get("ANVIL_S3_SECRET_KEY"))
                .as("ANVIL_S3_SECRET_KEY must equal %s's MINIO_ROOT_PASSWORD (same ${VAR:-default})", minio)
                .isEqualTo(minioEnvironment.get("MINIO_ROOT_PASSWORD"));

        String bucket = anvil.get("ANVIL_S3_BUCKET");
        assertThat(bucketCreators(bucket))
                .as("no one-shot service creates bucket '%s' (ANVIL_S3_BUCKET); add one that runs "
                        + "`mc mb --ignore-existing <alias>/%s` and that %s and %s await with "
                        + "service_completed_successfully", bucket, bucket, API, WORKER)
                .isNotEmpty();
    }

    @Test
    void dbUrlIsAnvilsPostgres() {
        Map<String, String> anvil = environment(API);
        String url = anvil.get("ANVIL_DB_URL");
        Matcher jdbc = JDBC_POSTGRES_URL.matcher(url);
        assertThat(jdbc.matches())
                .as("ANVIL_DB_URL '%s' must look like jdbc:postgresql://<service>:5432/<database>", url)
                .isTrue();
        String host = jdbc.group(1);
        Map<String, Object> database = serviceNamed(host, "ANVIL_DB_URL '" + url + "' names host '" + host + "'");
        assertThat(image(database)).as("ANVIL_DB_URL host '%s' must run PostgreSQL (found %s)",
                host, database.get("image")).matches(POSTGRES);
        if (jdbc.group(2) != null) {
            assertThat(Integer.parseInt(jdbc.group(2))).as("ANVIL_DB_URL '%s' port", url).isEqualTo(POSTGRES_PORT);
        }
        String databaseName = jdbc.group(3);
        assertThat(databaseName)
                .as("ANVIL_DB_URL names database '%s', but %s creates '%s' (POSTGRES_DB)", databaseName, host,
                        postgresDatabase(host))
                .isEqualTo(postgresDatabase(host));
        assertThat(anvil.get("ANVIL_DB_OWNER_USER"))
                .as("ANVIL_DB_OWNER_USER (who migrates) must equal %s's POSTGRES_USER (same ${VAR:-default})", host)
                .isEqualTo(postgresUser(host));
        assertThat(anvil.get("ANVIL_DB_OWNER_PASSWORD"))
                .as("ANVIL_DB_OWNER_PASSWORD must equal %s's POSTGRES_PASSWORD (same ${VAR:-default})", host)
                .isEqualTo(environment(host).get("POSTGRES_PASSWORD"));
        assertThat(anvil.get("ANVIL_DB_USER"))
                .as("ANVIL_DB_USER must be a role of its own, not the owner %s: the owner can switch the audit"
                        + " log's triggers off", postgresUser(host))
                .isNotEqualTo(postgresUser(host));
        List<String> roleCreators = oneShotServices().stream()
                .filter(name -> commandText(services.get(name)).contains("CREATE ROLE"))
                .filter(name -> anvil.get("ANVIL_DB_USER").equals(environment(name).get("APP_USER"))
                        && anvil.get("ANVIL_DB_PASSWORD").equals(environment(name).get("APP_PASSWORD")))
                .toList();
        assertThat(roleCreators)
                .as("no one-shot service creates the role ANVIL_DB_USER with ANVIL_DB_PASSWORD (APP_USER, APP_PASSWORD)"
                        + " that %s and %s await with service_completed_successfully", API, WORKER)
                .isNotEmpty();

        boolean sharedWithTemporal = servicesRunning(TEMPORAL_SERVER).stream()
                .anyMatch(temporal -> host.equals(environment(temporal).get("POSTGRES_SEEDS")));
        if (sharedWithTemporal) {
            assertThat(databaseName)
                    .as("ANVIL_DB_URL points at Temporal's PostgreSQL server; use a database of Anvil's own")
                    .isNotIn(TEMPORAL_DATABASES);
        }
    }

    @Test
    void apiAndWorkerWaitForWhatTheyUse() {
        Map<String, String> anvil = environment(API);
        Map<String, String> required = new LinkedHashMap<>();
        required.put(HostPort.parse(anvil.get("ANVIL_TEMPORAL_TARGET"), "ANVIL_TEMPORAL_TARGET").host(), "service_healthy");
        Matcher jdbc = JDBC_POSTGRES_URL.matcher(anvil.get("ANVIL_DB_URL"));
        if (jdbc.matches()) {
            required.put(jdbc.group(1), "service_healthy");
        }
        required.put(URI.create(anvil.get("ANVIL_S3_ENDPOINT")).getHost(), "service_healthy");
        bucketCreators(anvil.get("ANVIL_S3_BUCKET")).forEach(init -> required.put(init, "service_completed_successfully"));

        for (String serviceName : ANVIL_SERVICES) {
            Map<String, String> dependsOn = dependsOn(serviceName);
            List<String> problems = new ArrayList<>();
            required.forEach((dependency, condition) -> {
                if (!condition.equals(dependsOn.get(dependency))) {
                    problems.add(dependency + ": expected condition " + condition + ", found "
                            + Optional.ofNullable(dependsOn.get(dependency)).orElse("no dependency"));
                }
            });
            assertThat(problems).as("%s depends_on in %s", serviceName, COMPOSE_FILE).isEmpty();
        }
    }

    @Test
    void apiPublishesHttpAndReportsReadiness() {
        assertThat(containerPorts(services.get(API)))
                .as("%s must publish its HTTP port %d (ports: - \"8080:8080\")", API, ANVIL_HTTP_PORT)
                .contains(ANVIL_HTTP_PORT);
        assertThat(healthcheckCommand(services.get(API)))
                .as("%s healthcheck must probe Quarkus readiness on http://localhost:%d/q/health/ready",
                        API, ANVIL_HTTP_PORT)
                .contains("localhost:" + ANVIL_HTTP_PORT + "/q/health/ready");
    }

    @Test
    void keepsStateInNamedVolumes() {
        Set<String> declared = compose.get("volumes") instanceof Map<?, ?> volumes
                ? volumes.keySet().stream().map(String::valueOf).collect(Collectors.toSet())
                : Set.of();
        List<String> stateful = new ArrayList<>(servicesRunning(POSTGRES));
        stateful.addAll(servicesRunning(MINIO));
        // a one-shot client run from a server's image (anvil-db-roles runs psql) keeps no data
        stateful.removeAll(oneShotServices());
        for (String name : stateful) {
            assertThat(volumeSources(services.get(name)))
                    .as("%s keeps data a restart must not lose; mount a named volume declared under top-level "
                            + "volumes: %s", name, declared)
                    .anyMatch(declared::contains);
        }
    }

    @Test
    void anvilImageIsBuiltFromAPinnedDockerfile() throws IOException {
        assertThat(services.get(WORKER).get("image"))
                .as("%s and %s must run the same image", API, WORKER)
                .isEqualTo(services.get(API).get("image"));
        for (String serviceName : ANVIL_SERVICES) {
            Path dockerfile = dockerfileOf(serviceName);
            assertThat(dockerfile).as("%s builds from %s, which does not exist", serviceName, dockerfile).isRegularFile();
            Dockerfile parsed = Dockerfile.read(dockerfile);
            assertThat(parsed.baseImages()).as("%s has no FROM line", dockerfile).isNotEmpty();
            assertThat(parsed.unpinnedBaseImages())
                    .as("every FROM in %s must name an exact version (a :tag other than latest, or an @sha256 digest)",
                            projectRoot.relativize(dockerfile))
                    .isEmpty();
            assertThat(parsed.finalStageUser())
                    .as("the final stage of %s must switch to a non-root USER", projectRoot.relativize(dockerfile))
                    .isPresent()
                    .get()
                    .matches(user -> !user.equals("root") && !user.equals("0") && !user.startsWith("0:")
                            && !user.startsWith("root:"), "is not root");
            assertThat(parsed.text())
                    .as("%s must start the Quarkus fast-jar", projectRoot.relativize(dockerfile))
                    .contains("quarkus-run.jar");
        }
    }

    // ---- reading the compose model ------------------------------------------------------------

    private static Path findProjectRoot() {
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(COMPOSE_FILE)) && Files.isRegularFile(dir.resolve("mvnw"))) {
                return dir;
            }
        }
        return fail("%s not found: looked in %s and every parent for the repository root (a folder holding both "
                + "%s and mvnw). Run the test from inside the repository.", COMPOSE_FILE, start, COMPOSE_FILE);
    }

    private static List<String> servicesRunning(Predicate<ImageRef> kind) {
        return services.entrySet().stream()
                .filter(entry -> entry.getValue().get("image") != null && kind.test(image(entry.getValue())))
                .map(Map.Entry::getKey)
                .toList();
    }

    private static Map<String, Object> serviceNamed(String name, String whoAsks) {
        Map<String, Object> service = services.get(name);
        if (service == null) {
            fail("%s, but %s has no service of that name (services: %s)", whoAsks, COMPOSE_FILE, services.keySet());
        }
        return service;
    }

    private static ImageRef image(Map<String, Object> service) {
        return ImageRef.parse(resolveDefaults(String.valueOf(service.get("image"))));
    }

    /** Environment as Compose hands it to the container, before ${VAR} interpolation. */
    private static Map<String, String> environment(String serviceName) {
        Object environment = serviceNamed(serviceName, "looked up service '" + serviceName + "'").get("environment");
        Map<String, String> result = new LinkedHashMap<>();
        if (environment instanceof Map<?, ?> map) {
            map.forEach((key, value) -> result.put(String.valueOf(key), value == null ? null : String.valueOf(value)));
        } else if (environment instanceof List<?> list) {
            for (Object entry : list) {
                String text = String.valueOf(entry);
                int equals = text.indexOf('=');
                if (equals < 0) {
                    result.put(text, null);
                } else {
                    result.put(text.substring(0, equals), text.substring(equals + 1));
                }
            }
        }
        return result;
    }

    /** Dependency name to condition; the short list form means service_started. */
    private static Map<String, String> dependsOn(String serviceName) {
        Object dependsOn = services.get(serviceName).get("depends_on");
        Map<String, String> result = new LinkedHashMap<>();
        if (dependsOn instanceof List<?> list) {
            list.forEach(name -> result.put(String.valueOf(name), "service_started"));
        } else if (dependsOn instanceof Map<?, ?> map) {
            map.forEach((name, options) -> {
                Object condition = options instanceof Map<?, ?> o ? o.get("condition") : null;
                result.put(String.valueOf(name), condition == null ? "service_started" : String.valueOf(condition));
            });
        }
        return result;
    }

    /** Services others wait for with service_completed_successfully: they run once and exit. */
    private static Set<String> oneShotServices() {
        Set<String> oneShots = new LinkedHashSet<>();
        for (String name : services.keySet()) {
            dependsOn(name).forEach((dependency, condition) -> {
                if (condition.equals("service_completed_successfully")) {
                    oneShots.add(dependency);
                }
            });
        }
        return oneShots;
    }

    /** One-shot services whose command mentions the bucket, i.e. the ones that create it. */
    private static List<String> bucketCreators(String bucket) {
        Set<String> oneShots = oneShotServices();
        return services.entrySet().stream()
                .filter(entry -> oneShots.contains(entry.getKey()))
                .filter(entry -> commandText(entry.getValue()).contains(bucket))
                .map(Map.Entry::getKey)
                .toList();
    }

    private static String commandText(Map<String, Object> service) {
        return flatten(service.get("entrypoint")) + " " + flatten(service.get("command"));
    }

    private static String healthcheckCommand(Map<String, Object> service) {
        return service.get("healthcheck") instanceof Map<?, ?> check ? flatten(check.get("test")).trim() : "";
    }

    private static String flatten(Object value) {
        if (value instanceof List<?> list) {
            return list.stream().map(String::valueOf).collect(Collectors.joining(" "));
        }
        return value == null ? "" : String.valueOf(value);
    }

    /** Container-side ports from ports: (short or long syntax) and expose:. */
    private static Set<Integer> containerPorts(Map<String, Object> service) {
        Set<Integer> result = new LinkedHashSet<>();
        List<Object> entries = new ArrayList<>();
        if (service.get("ports") instanceof List<?> ports) {
            entries.addAll(ports);
        }
        if (service.get("expose") instanceof List<?> expose) {
            entries.addAll(expose);
        }
        for (Object entry : entries) {
            String spec = entry instanceof Map<?, ?> longSyntax ? String.valueOf(longSyntax.get("target")) : String.valueOf(entry);
            String withoutProtocol = spec.replaceFirst("/(tcp|udp)$", "");
            String container = withoutProtocol.substring(withoutProtocol.lastIndexOf(':') + 1);
            String[] range = container.split("-");
            try {
                int from = Integer.parseInt(range[0].trim());
                int to = range.length > 1 ? Integer.parseInt(range[1].trim()) : from;
                for (int port = from; port <= to; port++) {
                    result.add(port);
                }
            } catch (NumberFormatException notAPort) {
                // an interpolated port: nothing this test can check
            }
        }
        return result;
    }

    private static List<String> volumeSources(Map<String, Object> service) {
        List<String> sources = new ArrayList<>();
        if (service.get("volumes") instanceof List<?> volumes) {
            for (Object volume : volumes) {
                if (volume instanceof Map<?, ?> longSyntax) {
                    sources.add(String.valueOf(longSyntax.get("source")));
                } else {
                    String text = String.valueOf(volume);
                    sources.add(text.contains(":") ? text.substring(0, text.indexOf(':')) : text);
                }
            }
        }
        return sources;
    }

    private static String postgresUser(String serviceName) {
        return Optional.ofNullable(environment(serviceName).get("POSTGRES_USER")).orElse("postgres");
    }

    /** The postgres image creates POSTGRES_DB, defaulting to the user's name. */
    private static String postgresDatabase(String serviceName) {
        return Optional.ofNullable(environment(serviceName).get("POSTGRES_DB")).orElse(postgresUser(serviceName));
    }

    private static Path dockerfileOf(String serviceName) {
        Object build = services.get(serviceName).get("build");
        assertThat(build).as("%s must build the Anvil image (build: {context: ., dockerfile: ...})", serviceName)
                .isNotNull();
        Object declaredContext = build instanceof Map<?, ?> map ? map.get("context") : build;
        String context = declaredContext == null ? "." : String.valueOf(declaredContext);
        String dockerfile = build instanceof Map<?, ?> map && map.get("dockerfile") != null
                ? String.valueOf(map.get("dockerfile"))
                : "Dockerfile";
        // Compose resolves dockerfile against the build context, and the context against the file's folder.
        return composeFile.getParent().resolve(context).resolve(dockerfile).normalize();
    }

    /** Replaces ${VAR:-default} and ${VAR-default} by their defaults, as Compose does when VAR is unset. */
    private static String resolveDefaults(String text) {
        return INTERPOLATION_WITH_DEFAULT.matcher(text).replaceAll(match -> Matcher.quoteReplacement(match.group(1)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value, String what) {
        if (!(value instanceof Map<?, ?>)) {
            return fail("%s in %s must be a mapping, found %s", what, COMPOSE_FILE, value);
        }
        return (Map<String, Object>) value;
    }

    // ---- small value types --------------------------------------------------------------------

    /** An image reference split as Docker does: [registry/]name[:tag][@digest]. */
    record ImageRef(String name, String tag, String digest) {

        static ImageRef parse(String reference) {
            String rest = reference.trim();
            String digest = null;
            int at = rest.indexOf('@');
            if (at >= 0) {
                digest = rest.substring(at + 1);
                rest = rest.substring(0, at);
            }
            String tag = null;
            int colon = rest.lastIndexOf(':');
            if (colon > rest.lastIndexOf('/')) {
                tag = rest.substring(colon + 1);
                rest = rest.substring(0, colon);
            }
            List<String> parts = new ArrayList<>(List.of(rest.split("/")));
            String first = parts.get(0);
            if (parts.size() > 1 && (first.contains(".") || first.contains(":") || first.equals("localhost"))) {
                parts.remove(0); // registry host
            }
            if (parts.size() > 1 && parts.get(0).equals("library")) {
                parts.remove(0);
            }
            return new ImageRef(String.join("/", parts).toLowerCase(Locale.ROOT), tag, digest);
        }

        String lastSegment() {
            return name.substring(name.lastIndexOf('/') + 1);
        }

        Optional<String> pinProblem() {
            if (digest != null && digest.startsWith("sha256:")) {
                return Optional.empty();
            }
            if (tag == null || tag.isBlank()) {
                return Optional.of("has no tag, which means :latest");
            }
            if (tag.equalsIgnoreCase("latest")) {
                return Optional.of("uses :latest");
            }
            return Optional.empty();
        }
    }

    record HostPort(String host, int port) {

        static HostPort parse(String value, String variable) {
            assertThat(value).as("%s must be set", variable).isNotBlank();
            int colon = value.lastIndexOf(':');
            assertThat(colon).as("%s '%s' must be <host>:<port> without a scheme", variable, value).isPositive();
            assertThat(value).as("%s '%s' must be <host>:<port> without a scheme", variable, value).doesNotContain("//");
            try {
                return new HostPort(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
            } catch (NumberFormatException e) {
                return fail("%s '%s' must end in a numeric port", variable, value);
            }
        }
    }

    /** Just enough of a Dockerfile to check its base images and final user. */
    record Dockerfile(String text, List<String> baseImages, List<String> unpinnedBaseImages, Optional<String> finalStageUser) {

        private static final Pattern FROM = Pattern.compile(
                "^\\s*FROM\\s+(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?\\s*$", Pattern.CASE_INSENSITIVE);
        private static final Pattern ARG = Pattern.compile("^\\s*ARG\\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\\S*))?",
                Pattern.CASE_INSENSITIVE);
        private static final Pattern USER = Pattern.compile("^\\s*USER\\s+(\\S+)", Pattern.CASE_INSENSITIVE);

        static Dockerfile read(Path path) throws IOException {
            String text = Files.readString(path, StandardCharsets.UTF_8);
            Map<String, String> globalArgs = new LinkedHashMap<>();
            Set<String> stages = new LinkedHashSet<>();
            List<String> images = new ArrayList<>();
            List<String> unpinned = new ArrayList<>();
            Optional<String> user = Optional.empty();
            boolean seenFrom = false;
            for (String line : text.split("\\R")) {
                Matcher arg = ARG.matcher(line);
                if (!seenFrom && arg.find()) {
                    globalArgs.put(arg.group(1), arg.group(2) == null ? "" : arg.group(2).replace("\"", ""));
                    continue;
                }
                Matcher from = FROM.matcher(line);
                if (from.matches()) {
                    seenFrom = true;
                    String image = substitute(from.group(1), globalArgs);
                    images.add(image);
                    user = Optional.empty(); // USER does not carry over into a new stage
                    boolean earlierStage = stages.contains(image.toLowerCase(Locale.ROOT));
                    if (!earlierStage && !image.equals("scratch")) {
                        ImageRef.parse(image).pinProblem().ifPresent(p -> unpinned.add("FROM " + from.group(1) + " " + p));
                        if (image.contains("$")) {
                            unpinned.add("FROM " + from.group(1) + " depends on an ARG without a default");
                        }
                    }
                    if (from.group(2) != null) {
                        stages.add(from.group(2).toLowerCase(Locale.ROOT));
                    }
                    continue;
                }
                Matcher userLine = USER.matcher(line);
                if (userLine.find()) {
                    user = Optional.of(userLine.group(1));
                }
            }
            return new Dockerfile(text, images, unpinned, user);
        }

        private static String substitute(String image, Map<String, String> args) {
            String result = image;
            for (Map.Entry<String, String> arg : args.entrySet()) {
                result = result.replace("${" + arg.getKey() + "}", arg.getValue()).replace("$" + arg.getKey(), arg.getValue());
            }
            return result;
        }
    }
}
