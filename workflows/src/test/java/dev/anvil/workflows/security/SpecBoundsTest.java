package dev.anvil.workflows.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.SpecParser;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Spec texts built to exhaust the parser are refused quickly, each with an error naming the limit. */
class SpecBoundsTest {
    private static final Duration QUICKLY = Duration.ofSeconds(2);

    /** The classic "billion laughs": nine levels of ten aliases each, 10^9 strings once expanded. */
    static String aliasBomb() {
        StringBuilder yaml = new StringBuilder("pipeline: bomb\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        char previous = 'a';
        for (char level = 'b'; level <= 'i'; level++) {
            yaml.append(level).append(": &").append(level).append(" [");
            for (int i = 0; i < 9; i++) {
                yaml.append(i == 0 ? "" : ",").append('*').append(previous);
            }
            yaml.append("]\n");
            previous = level;
        }
        return yaml.append("tasks: {t: {operator: noop, with: {x: *i}}}\n").toString();
    }

    @Test
    void anAliasBombIsRefusedQuicklyNamingTheLimit() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> SpecLoader.load(aliasBomb(), OperatorRegistry.builtIns(), Set.of()))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("more than " + SpecParser.MAX_ALIASES + " YAML aliases");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(QUICKLY);
    }

    @Test
    void deepNestingIsRefusedNamingTheLimit() {
        String deep = "pipeline: deep\ntasks: {t: {operator: noop, with: {x: " + "[".repeat(10_000) + "]".repeat(10_000) + "}}}\n";
        long start = System.nanoTime();
        assertThatThrownBy(() -> SpecParser.parse(deep))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("nests deeper than " + SpecParser.MAX_NESTING_DEPTH + " levels");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(QUICKLY);
    }

    @Test
    void aSpecOverOneMebibyteIsRefusedBeforeParsing() {
        StringBuilder big = new StringBuilder("pipeline: big\ntasks:\n");
        for (int i = 0; big.length() <= SpecParser.MAX_SPEC_CHARS; i++) {
            big.append("  t").append(i).append(": {operator: noop}\n");
        }
        long start = System.nanoTime();
        assertThatThrownBy(() -> SpecParser.parse(big.toString()))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("at most " + SpecParser.MAX_SPEC_CHARS);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(QUICKLY);
    }
}
