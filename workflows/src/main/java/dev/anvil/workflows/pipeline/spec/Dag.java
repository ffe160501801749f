package dev.anvil.workflows.pipeline.spec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The task graph of a pipeline. Edges run from a task to the tasks that list it as upstream.
 * Every answer is deterministic: ties are broken by declaration order, which workflow code needs.
 * Upstream entries naming unknown tasks or the task itself are ignored here; the validator
 * reports them.
 */
public final class Dag {
    private final List<String> tasks;
    private final Map<String, Integer> index = new HashMap<>();
    private final Map<String, List<String>> upstream = new LinkedHashMap<>();
    private final Map<String, List<String>> downstream = new LinkedHashMap<>();

    private Dag(Map<String, List<String>> upstreamByTask) {
        this.tasks = List.copyOf(upstreamByTask.keySet());
        for (String t : tasks) {
            index.put(t, index.size());
            downstream.put(t, new ArrayList<>());
        }
        for (String t : tasks) {
            List<String> ups = new ArrayList<>();
            for (String u : new LinkedHashSet<>(upstreamByTask.get(t))) {
                if (index.containsKey(u) && !u.equals(t)) {
                    ups.add(u);
                    downstream.get(u).add(t);
                }
            }
            upstream.put(t, Collections.unmodifiableList(ups));
        }
        // Built in upstream-declaration order; sort so downstream lists follow task declaration order.
        downstream.replaceAll((t, ds) -> ds.stream().sorted((a, b) -> index.get(a) - index.get(b)).toList());
    }

    /** @param upstreamByTask each task, in declaration order, with the tasks it waits for */
    public static Dag of(Map<String, List<String>> upstreamByTask) {
        return new Dag(upstreamByTask);
    }

    public static Dag of(PipelineSpec spec) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        spec.tasks().forEach((id, t) -> m.put(id, t.upstream()));
        return new Dag(m);
    }

    public List<String> tasks() {
        return tasks;
    }

    public List<String> upstream(String task) {
        return upstream.getOrDefault(task, List.of());
    }

    public List<String> downstream(String task) {
        return downstream.getOrDefault(task, List.of());
    }

    /** Tasks with no upstream, in declaration order. */
    public List<String> roots() {
        return tasks.stream().filter(t -> upstream(t).isEmpty()).toList();
    }

    /**
     * Every task after all its upstreams; among tasks ready at the same time, the one declared
     * first comes first (Kahn's algorithm over a queue ordered by declaration).
     *
     * @throws IllegalStateException if the graph has a cycle
     */
    public List<String> topologicalOrder() {
        Map<String, Integer> waiting = new HashMap<>();
        PriorityQueue<String> ready = new PriorityQueue<>((a, b) -> index.get(a) - index.get(b));
        for (String t : tasks) {
            waiting.put(t, upstream(t).size());
            if (upstream(t).isEmpty()) {
                ready.add(t);
            }
        }
        List<String> order = new ArrayList<>(tasks.size());
        while (!ready.isEmpty()) {
            String t = ready.poll();
            order.add(t);
            for (String d : downstream(t)) {
                if (waiting.merge(d, -1, Integer::sum) == 0) {
                    ready.add(d);
                }
            }
        }
        if (order.size() != tasks.size()) {
            throw new IllegalStateException("the task graph has a cycle: " + String.join(" -> ", cycles().get(0)));
        }
        return order;
    }

    /** Every task {@code task} waits for, directly or not, in declaration order. */
    public Set<String> upstreamClosure(String task) {
        return closure(task, this::upstream);
    }

    /**
     * {@code task} and everything that runs after it, directly or not, in topological order: the
     * tasks to clear when retrying from {@code task}.
     */
    public List<String> downstreamClosure(String task) {
        Set<String> after = closure(task, this::downstream);
        after.add(task);
        return topologicalOrder().stream().filter(after::contains).toList();
    }

    private Set<String> closure(String task, java.util.function.Function<String, List<String>> next) {
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(next.apply(task));
        while (!todo.isEmpty()) {
            String t = todo.pop();
            if (seen.add(t)) {
                todo.addAll(next.apply(t));
            }
        }
        seen.remove(task);
        Set<String> ordered = new LinkedHashSet<>();
        tasks.stream().filter(seen::contains).forEach(ordered::add);
        return ordered;
    }

    /**
     * The cycles found by a depth-first search, each as its tasks in run order and closed, e.g.
     * {@code [a, b, c, a]} where b waits for a, c for b and a for c. Each starts at its
     * earliest-declared task; the same cycle is listed once. Empty for a DAG.
     */
    public List<List<String>> cycles() {
        Map<String, List<String>> found = new LinkedHashMap<>();
        Map<String, Integer> state = new HashMap<>(); // absent: unvisited, 1: on the stack, 2: done
        for (String start : tasks) {
            if (!state.containsKey(start)) {
                search(start, state, found);
            }
        }
        return List.copyOf(found.values());
    }

    /** Iterative, so a 500-task chain cannot overflow the stack. */
    private void search(String start, Map<String, Integer> state, Map<String, List<String>> found) {
        List<String> path = new ArrayList<>();
        Deque<int[]> cursor = new ArrayDeque<>(); // next child index per frame
        path.add(start);
        cursor.push(new int[] {0});
        state.put(start, 1);
        while (!path.isEmpty()) {
            String node = path.get(path.size() - 1);
            int[] next = cursor.peek();
            List<String> children = downstream(node);
            if (next[0] == children.size()) {
                state.put(node, 2);
                path.remove(path.size() - 1);
                cursor.pop();
                continue;
            }
            String child = children.get(next[0]++);
            Integer s = state.get(child);
            if (s == null) {
                state.put(child, 1);
                path.add(child);
                cursor.push(new int[] {0});
            } else if (s == 1) {
                List<String> cycle = canonical(path.subList(path.indexOf(child), path.size()));
                found.putIfAbsent(String.join(" ", cycle), cycle);
            }
        }
    }

    private List<String> canonical(List<String> open) {
        int first = 0;
        for (int i = 1; i < open.size(); i++) {
            if (index.get(open.get(i)) < index.get(open.get(first))) {
                first = i;
            }
        }
        List<String> cycle = new ArrayList<>(open.subList(first, open.size()));
        cycle.addAll(open.subList(0, first));
        cycle.add(cycle.get(0));
        return List.copyOf(cycle);
    }

    /** The first cycle, if any. */
    public Optional<List<String>> findCycle() {
        List<List<String>> all = cycles();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }
}
