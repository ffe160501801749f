package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the chart script's own tests (ui/test/charts.test.mjs and psi-chart.test.mjs: scales, bar geometry, colours, escaping)
 * with Node's built-in runner; they need no npm packages. Skipped, saying why, where node is not
 * installed, like the browser test (.ci/run installs it).
 */
class UiChartsScriptTest {
    static final Path UI = Path.of("../ui").toAbsolutePath().normalize();

    @Test
    void theChartScriptsTestsPassUnderNode() throws Exception {
        Path node = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "node"))) {
                node = Path.of(dir, "node");
                break;
            }
        }
        Assumptions.assumeTrue(node != null, "chart script tests skipped: node is not installed (apt-get install nodejs; .ci/run does)");
        Path log = Path.of("target/ui-charts-node-test.log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(node.toString(), "--test", "test/charts.test.mjs", "test/psi-chart.test.mjs").directory(UI.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(2, TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly();
        }
        assertThat(ended && p.exitValue() == 0).as("node --test ui/test/charts.test.mjs ui/test/psi-chart.test.mjs passed:\n" + Files.readString(log)).isTrue();
    }
}
