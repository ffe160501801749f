package dev.anvil.api.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Anvil's settings. Each maps from an environment variable of the same path
 * (anvil.s3.endpoint ← ANVIL_S3_ENDPOINT); the defaults point at the local stack.
 */
@ConfigMapping(prefix = "anvil")
public interface AnvilConfig {
    Temporal temporal();

    S3 s3();

    Worker worker();

    Api api();

    Gateway gateway();

    Auth auth();

    Provenance provenance();

    Db db();

    Rollout rollout();

    Datasets datasets();

    Schedules schedules();

    /**
     * The base URL outside services reach this API at (ANVIL_PUBLIC_URL, e.g. https://anvil.example.com): training
     * services call back under it (docs/external-training.md). Unset, it is http://localhost:<the HTTP port>.
     */
    Optional<String> publicUrl();

    /**
     * Training services of the external operator by name: anvil.trainer.<name>.url / .auth (or
     * ANVIL_TRAINER_<NAME>_URL / _AUTH, read by {@code ExternalTraining}); docs/external-training.md.
     */
    java.util.Map<String, Trainer> trainer();

    interface Trainer {
        /** The service's jobs endpoint, http(s). */
        Optional<String> url();

        /** The Authorization header value sent with each job. */
        Optional<String> auth();
    }

    /**
     * How long a pipeline task may wait on its task queue for a worker (ANVIL_SCHEDULE_TO_START_TIMEOUT); past it
     * the task fails, naming the queue and how to start a worker for it, instead of waiting for its execution
     * timeout. Busy clusters whose tasks queue behind long ones raise it; 0 turns the limit off.
     */
    @WithDefault("10m")
    Duration scheduleToStartTimeout();

    /** Bounds on POST /api/datasets, whose body is a file to import, often an archive. */
    interface Datasets {
        /** Largest upload (ANVIL_DATASETS_MAX_UPLOAD_BYTES); a larger body is refused with 413. */
        @WithDefault("1073741824")
        long maxUploadBytes();

        /** Most entries an uploaded zip may list. */
        @WithDefault("100000")
        int maxArchiveEntries();

        /**
         * Most bytes an upload may inflate to (zip entries together, or a gzipped file), counted while
         * inflating: a small archive can claim or hold far more. The imported dataset is built in memory.
         */
        @WithDefault("1073741824")
        long maxInflatedBytes();
    }

    /** What fires pipeline schedules (docs/scaling.md#schedules). */
    interface Schedules {
        /**
         * auto (Temporal Schedules where the Temporal service has them, else Anvil's durable-timer scheduler),
         * temporal (stops start-up on a service without them) or timer (ANVIL_SCHEDULES_BACKEND). Chosen once at start-up.
         */
        @WithDefault("auto")
        String backend();
    }

    interface Rollout {
        /**
         * The shortest analysis window a canary step may have (ANVIL_ROLLOUT_MIN_INTERVAL): a shorter one
         * judges the candidate on too little traffic, so it is refused unless an admin breaks glass.
         */
        @WithDefault("30s")
        Duration minInterval();
    }

    interface Temporal {
        /**
         * The Temporal frontend, host:port; or {@code embedded}: the Java dev server inside this process, reached
         * in-process (see README "Local mode: what it survives").
         */
        @WithDefault("127.0.0.1:7233")
        String target();

        /**
         * With target {@code embedded}: also listen on this loopback host:port, so that worker-only processes on
         * this machine can join (ANVIL_TEMPORAL_EMBEDDED_LISTEN); unset, only this process reaches it.
         */
        Optional<String> embeddedListen();

        @WithDefault("default")
        String namespace();

        /**
         * How often PostgreSQL's in-flight runs, task attempts, approvals and rollouts are squared with
         * what Temporal knows (also once at start-up); 0 only at start-up.
         */
        @WithDefault("60s")
        Duration reconcileInterval();

        /** TLS to the Temporal frontend; off unless a file is named (the local dev server speaks plain gRPC). */
        Tls tls();

        /**
         * PEM files for (mutual) TLS to Temporal. Certificate and key go together (mutual TLS: the cluster
         * knows Anvil's processes by this certificate); the CA alone gives server-only TLS.
         */
        interface Tls {
            /** The client certificate chain, PEM (ANVIL_TEMPORAL_TLS_CERT). */
            Optional<Path> cert();

            /** Its private key, PKCS#8 PEM (ANVIL_TEMPORAL_TLS_KEY). */
            Optional<Path> key();

            /** The CA certificates that signed the frontend's certificate, PEM; unset: the JDK's trust store (ANVIL_TEMPORAL_TLS_CA). */
            Optional<Path> ca();

            /** The name the frontend's certificate carries, when it is not the host of the target (ANVIL_TEMPORAL_TLS_SERVER_NAME). */
            Optional<String> serverName();
        }
    }

    interface S3 {
        @WithDefault("http://127.0.0.1:9000")
        String endpoint();

        @WithDefault("anvil")
        String accessKey();

        @WithDefault("anvil-local-secret")
        String secretKey();

        @WithDefault("anvil-artifacts")
        String bucket();
    }

    interface Worker {
        /** Poll Temporal task queues in this process. Off for API-only pods. */
        @WithDefault("true")
        boolean enabled();

        /**
         * Cached workflow executions (sticky execution): a workflow task resumes the cached run instead of
         * replaying its history. 0 turns sticky execution off, so every workflow task replays the run's whole
         * history from the shared queue (see WorkerSettings for how either survives a restart).
         */
        @WithDefault("600")
        int workflowCacheSize();

        /**
         * The task queues this process polls, comma-separated (ANVIL_WORKER_QUEUES), e.g. anvil-gpu for a
         * GPU-only worker. Unset: anvil-cpu, plus anvil-gpu where a GPU is found. Workflows run on anvil-cpu.
         */
        Optional<String> queues();

        /** Activities this process runs at once on each queue it polls (ANVIL_WORKER_MAX_ACTIVITIES, 1 to 256). */
        @WithDefault("8")
        int maxActivities();
    }

    interface Api {
        /** Serve /api. Off for worker-only processes, which keep /q/health. */
        @WithDefault("true")
        boolean enabled();

        /** How long POST /api/models/inspect waits for the result before answering 202 with the run. */
        @WithDefault("60s")
        Duration inspectWait();
    }

    interface Gateway {
        /** Largest inference request body; a larger one is refused with 413 before it is parsed. */
        @WithDefault("16777216")
        long maxRequestBytes();

        /**
         * Inference request bodies held in memory at once across the process; a request that would pass it
         * is refused with 503 and Retry-After. At least max-request-bytes (a body of unknown length
         * reserves that much).
         */
        @WithDefault("268435456")
        long maxInflightBytes();

        /**
         * Requests one model version decodes and runs at once (each pins its input tensors and ONNX Runtime's
         * working memory); more wait up to queue-wait, then get 429 with Retry-After.
         */
        @WithDefault("4")
        int maxConcurrentPerModel();

        /** How long a request waits for a busy model version before a 429. */
        @WithDefault("2s")
        Duration queueWait();

        /** How long a request waits for its model version to finish loading before a 503. */
        @WithDefault("30s")
        Duration loadWait();

        /** ONNX Runtime threads per inference; 1 serves concurrent requests best, 0 is ORT's default (all cores). */
        @WithDefault("1")
        int intraOpThreads();

        /** How often the gateway re-reads endpoints changed by other processes (rollouts on worker pods). */
        @WithDefault("5s")
        Duration refreshInterval();

        /**
         * How often this process publishes its per-version counters to PostgreSQL, where rollouts on other
         * processes (worker pods) read them; 0 publishes only when this process reads them itself.
         */
        @WithDefault("2s")
        Duration countsPublishInterval();

        /**
         * Input rows the gateway keeps per endpoint version for drift checks (a seeded reservoir sample, beside
         * per-feature histograms and predicted-class counts), published every counts-publish-interval; 0 turns
         * sampling off (docs/drift.md).
         */
        @WithDefault("512")
        int driftSampleSize();
    }

    /**
     * The database role that owns the schema and runs the migrations (ANVIL_DB_OWNER_USER,
     * ANVIL_DB_OWNER_PASSWORD), beside the role Anvil connects as (ANVIL_DB_USER), which the
     * migrations then grant rows only: it cannot alter tables, switch triggers off or change the
     * audit log. Unset, ANVIL_DB_USER does both and start-up warns that the audit log is not
     * protected from it.
     */
    interface Db {
        Optional<String> ownerUser();

        Optional<String> ownerPassword();
    }

    /**
     * The key that signs every task output's provenance (docs/provenance.md): a PKCS#8 PEM of an EC P-256 key,
     * from a file or from the variable itself. Every process (API and workers) must use the same key.
     */
    interface Provenance {
        /** A PKCS#8 PEM file (ANVIL_PROVENANCE_KEY_FILE). */
        Optional<Path> keyFile();

        /** The PEM itself (ANVIL_PROVENANCE_KEY), for secret stores that hand out values, not files. */
        Optional<String> key();

        /**
         * Local mode, neither of the above set: the key is read from here, and generated here (owner-readable
         * only) on the first start. Set by application.properties to $ANVIL_HOME/provenance-key.pem.
         */
        @WithDefault(".anvil/provenance-key.pem")
        Path generatedKeyFile();
    }

    interface Auth {
        /**
         * Local mode: seed the demo users (demo-admin, demo-submitter, demo-reviewer) and keep their
         * tokens in this file, owner-readable only. {@code ./anvil up} sets it to .anvil/demo-tokens;
         * leave it unset in production and make tokens with POST /api/tokens.
         */
        Optional<Path> demoTokensFile();

        /**
         * How long a token found valid is trusted without asking PostgreSQL again (per process), so
         * that frequent callers (inference clients) do not pay a database round trip per request. A
         * revoked token is refused after at most this long (at once in the process that revoked it); 0 checks
         * every request. It sets the quarkus-cache cache api-tokens (application.properties).
         */
        @WithDefault("5s")
        Duration tokenCacheTtl();

        /**
         * Bearer JWTs from an OpenID Connect provider, accepted beside API tokens when an issuer is set, and the
         * web UI's single sign-on when a client id is set too (quarkus-oidc tenants, see OidcTenants).
         */
        Oidc oidc();

        interface Oidc {
            /**
             * The provider's issuer URL (e.g. https://keycloak.example.com/realms/ml). Its
             * /.well-known/openid-configuration names the signing keys. Unset: OIDC is off.
             */
            Optional<String> issuer();

            /** The audience ({@code aud}) a token must carry, e.g. the client id; unset: not checked. */
            Optional<String> audience();

            /** Where the role names are: a claim, or a dotted path into nested claims (Keycloak: realm_access.roles). */
            @WithDefault("roles")
            String rolesClaim();

            /** A prefix the provider's role names carry for Anvil (e.g. anvil- for anvil-reviewer); unset: none. */
            Optional<String> rolePrefix();

            /** The claim that names the caller (audit log, four-eyes rule); sub when the token lacks it. */
            @WithDefault("preferred_username")
            String principalClaim();

            /** Clock difference tolerated when checking exp and nbf. */
            @WithDefault("30s")
            Duration clockSkew();

            /**
             * The shortest time between two fetches of the provider's keys (JWKS) made because a token names
             * a key not seen yet (key rotation); a longer one stops forged tokens from making Anvil hammer the
             * provider.
             */
            @WithDefault("10m")
            Duration jwksRefreshInterval();

            /** The web UI's client id at the provider; set it to offer "Sign in with single sign-on" (authorization code + PKCE). */
            Optional<String> clientId();

            /** The client's secret, for a confidential client; unset for a public one (PKCE only). */
            Optional<String> clientSecret();

            /** Scopes the UI asks for. */
            @WithDefault("openid profile")
            String scopes();

            /**
             * Where the provider sends the browser back, when Anvil sits behind a proxy that changes its
             * address (e.g. https://anvil.example.com/ui/login/oidc/callback); unset: from the request.
             */
            Optional<String> redirectUri();
        }
    }
}
