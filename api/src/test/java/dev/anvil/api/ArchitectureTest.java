package dev.anvil.api;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import ai.onnxruntime.OrtEnvironment;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout's rules, checked on the compiled classes of every module the application holds: arrows
 * between modules point one way, the model toolkit stays a plain library, and workflow code does no I/O
 * and nothing non-deterministic (Temporal replays it; side effects belong in activities).
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // test fixtures shared as test-jars (modelkit's) are tests too
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("dev.anvil");
    }

    /** Workflow code: everything in {@code workflows} but the pipeline spec, which api and activities parse. */
    private static final String[] WORKFLOW_CODE = {"dev.anvil.workflows", "dev.anvil.workflows.approval..",
            "dev.anvil.workflows.inspect..", "dev.anvil.workflows.rollout..", "dev.anvil.workflows.runs..",
            "dev.anvil.workflows.pipeline", "dev.anvil.workflows.pipeline.schedule.."};

    @Test
    void workflowCodeDoesNoIo() {
        ArchRule rule = noClasses().that().resideInAnyPackage(WORKFLOW_CODE).should().dependOnClassesThat()
                .resideInAnyPackage("java.sql..", "javax.sql..", "io.minio..", "ai.onnxruntime..", "java.net..",
                        "java.nio.file..", "java.nio.channels..", "java.util.concurrent..", "io.quarkus..",
                        "jakarta..", "dev.anvil.db..", "dev.anvil.storage..", "dev.anvil.modelkit..",
                        "dev.anvil.serving..", "dev.anvil.activities..", "dev.anvil.api..")
                .orShould().dependOnClassesThat().belongToAnyOf(java.io.File.class, java.io.FileInputStream.class,
                        java.io.FileOutputStream.class, java.io.RandomAccessFile.class, Thread.class, Random.class)
                .because("workflow code is replayed by Temporal: I/O and threads belong in activities");
        rule.check(classes);
    }

    @Test
    void workflowCodeIsDeterministic() {
        ArchRule rule = noClasses().that().resideInAnyPackage(WORKFLOW_CODE).should()
                .callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Instant.class, "now")
                .orShould().callMethod(LocalDateTime.class, "now")
                .orShould().callMethod(UUID.class, "randomUUID")
                .orShould().callMethod(Math.class, "random")
                .because("a replayed workflow must make the same decisions: use Workflow.currentTimeMillis(),"
                        + " Workflow.randomUUID() and Workflow.newRandom()");
        rule.check(classes);
    }

    @Test
    void theModelToolkitIsAPlainLibrary() {
        noClasses().that().resideInAPackage("dev.anvil.modelkit..").should().dependOnClassesThat()
                .resideInAnyPackage("io.temporal..", "io.quarkus..", "jakarta..", "io.minio..", "dev.anvil.workflows..",
                        "dev.anvil.activities..", "dev.anvil.serving..", "dev.anvil.storage..", "dev.anvil.db..",
                        "dev.anvil.api..")
                .because("the toolkit is usable as a library and by command-line tools").check(classes);
    }

    @Test
    void storageKnowsOnlyObjectStorage() {
        noClasses().that().resideInAPackage("dev.anvil.storage..").should().dependOnClassesThat()
                .resideInAnyPackage("io.temporal..", "io.quarkus..", "dev.anvil.workflows..", "dev.anvil.activities..",
                        "dev.anvil.serving..", "dev.anvil.modelkit..", "dev.anvil.db..", "dev.anvil.api..")
                .check(classes);
    }

    @Test
    void nothingDependsOnTheApplication() {
        noClasses().that().resideOutsideOfPackage("dev.anvil.api..").should().dependOnClassesThat()
                .resideInAPackage("dev.anvil.api..").because("arrows point from api to the modules, never back")
                .check(classes);
    }

    @Test
    void servingDependsOnNoActivityOrQuarkus() {
        noClasses().that().resideInAPackage("dev.anvil.serving..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.anvil.activities..", "io.temporal..", "io.quarkus..")
                .because("the gateway is hosted by the application and needs no Temporal").check(classes);
    }

    @Test
    void activitiesNeitherServeNorKnowTheApplicationFramework() {
        noClasses().that().resideInAPackage("dev.anvil.activities..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.anvil.serving..", "io.quarkus..", "jakarta..")
                .because("activities adapt the toolkit and the stores for Temporal; worker processes load no"
                        + " serving sessions (a rollout changes endpoints in PostgreSQL and reads the serving"
                        + " processes' reports)")
                .check(classes);
    }

    @Test
    void provenanceIsPlainJava() {
        noClasses().that().resideInAPackage("dev.anvil.activities.provenance..").should().dependOnClassesThat()
                .resideInAnyPackage("io.temporal..", "io.quarkus..", "jakarta..", "io.minio..", "java.sql..",
                        "dev.anvil.db..", "dev.anvil.storage..", "dev.anvil.workflows..", "dev.anvil.modelkit..",
                        "dev.anvil.activities.operators..")
                .because("signing and verifying provenance is used by the worker, the API and verifiers alike")
                .check(classes);
    }

    @Test
    void onlyOrtSessionsOpensOnnxRuntimeSessions() {
        noClasses().that().doNotHaveFullyQualifiedName("dev.anvil.modelkit.onnx.OrtSessions").should()
                .callMethodWhere(target(owner(assignableTo(OrtEnvironment.class))).and(target(name("createSession"))))
                .because("ONNX Runtime follows a model's external-data references to files beside it; OrtSessions"
                        + " refuses such models before any session is made")
                .check(classes);
    }
}
