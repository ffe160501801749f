package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DagTest {
    /** Tasks in declaration order with their upstreams: "b:a,c" means b waits for a and c. */
    private static Dag dag(String... tasks) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String t : tasks) {
            String[] parts = t.split(":", -1);
            m.put(parts[0], parts.length < 2 || parts[1].isEmpty() ? List.of() : List.of(parts[1].split(",")));
        }
        return Dag.of(m);
    }

    @Test
    void topologicalOrderBreaksTiesByDeclarationOrder() {
        Dag dag = dag("z", "y", "x:z", "w:y", "v:x,w");

        assertThat(dag.topologicalOrder()).containsExactly("z", "y", "x", "w", "v");
        assertThat(dag("c:a", "b", "a").topologicalOrder()).containsExactly("b", "a", "c");
    }

    @Test
    void topologicalOrderIsTheSameEveryTime() {
        Dag dag = dag("fan", "m1:fan", "m2:fan", "m3:fan", "join:m3,m1,m2");
        List<String> first = dag.topologicalOrder();
        for (int i = 0; i < 20; i++) {
            assertThat(dag.topologicalOrder()).isEqualTo(first);
        }
        assertThat(first).containsExactly("fan", "m1", "m2", "m3", "join");
    }

    @Test
    void downstreamClosureIncludesTheTaskAndRunsInOrder() {
        Dag dag = dag("a", "b:a", "c:b", "d:a", "e", "f:c,e");

        assertThat(dag.downstreamClosure("b")).containsExactly("b", "c", "f");
        assertThat(dag.downstreamClosure("a")).containsExactly("a", "b", "c", "d", "f");
        assertThat(dag.downstreamClosure("f")).containsExactly("f");
        assertThat(dag.upstreamClosure("f")).containsExactly("a", "b", "c", "e");
        assertThat(dag.roots()).containsExactly("a", "e");
        assertThat(dag.downstream("a")).containsExactly("b", "d");
    }

    @Test
    void findsCyclesStartingAtTheEarliestDeclaredTask() {
        Dag dag = dag("start", "c:b", "a:start,c", "b:a");

        assertThat(dag.findCycle()).contains(List.of("c", "a", "b", "c"));
        assertThatThrownBy(dag::topologicalOrder).isInstanceOf(IllegalStateException.class)
                .hasMessage("the task graph has a cycle: c -> a -> b -> c");
        assertThat(dag("a", "b:a").findCycle()).isEmpty();
    }

    @Test
    void ignoresUnknownAndSelfEdges() {
        Dag dag = dag("a:a,ghost", "b:a");

        assertThat(dag.upstream("a")).isEmpty();
        assertThat(dag.cycles()).isEmpty();
        assertThat(dag.topologicalOrder()).containsExactly("a", "b");
    }

    @Test
    void handlesFiveHundredTaskChainsAndFanOuts() {
        Map<String, List<String>> chain = new LinkedHashMap<>();
        Map<String, List<String>> fan = new LinkedHashMap<>();
        fan.put("t0", List.of());
        for (int i = 0; i < 500; i++) {
            chain.put("t" + i, i == 0 ? List.of() : List.of("t" + (i - 1)));
            if (i > 0 && i < 499) {
                fan.put("t" + i, List.of("t0"));
            }
        }
        fan.put("t499", List.copyOf(fan.keySet()).subList(1, 499));

        Dag c = Dag.of(chain);
        assertThat(c.topologicalOrder()).containsExactlyElementsOf(chain.keySet());
        assertThat(c.cycles()).isEmpty();
        assertThat(c.downstreamClosure("t250")).hasSize(250);
        assertThat(c.upstreamClosure("t499")).hasSize(499);
        Dag f = Dag.of(fan);
        assertThat(f.topologicalOrder()).containsExactlyElementsOf(fan.keySet());
        assertThat(f.downstreamClosure("t0")).hasSize(500);
        assertThat(f.downstreamClosure("t7")).containsExactly("t7", "t499");
    }
}
