package dev.anvil.workflows.pipeline.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.JsonParserDelegate;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import dev.anvil.workflows.TaskQueues;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Turns spec text (YAML, or JSON, which is YAML) into a {@link PipelineSpec}, checking its shape:
 * fields, types, names, durations, trigger rules, queues and the schedule. Whether operators,
 * upstreams and references make sense is {@link SpecValidator}'s job.
 */
public final class SpecParser {
    public static final Pattern PIPELINE_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    public static final Pattern TASK_ID = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]{0,62}");
    public static final List<String> QUEUES = TaskQueues.ALL;

    static final List<String> TOP_FIELDS =
            List.of("pipeline", "description", "schedule", "catchup", "max_active_runs", "params", "default_args",
                    "tasks");
    static final List<String> DEFAULT_ARG_FIELDS =
            List.of("retries", "retry_delay", "execution_timeout", "trigger_rule", "queue", "cache");
    static final List<String> TASK_FIELDS = List.of("operator", "upstream", "dependencies", "trigger_rule",
            "retries", "retry_delay", "execution_timeout", "queue", "with", "cache");

    /** Fixed, so "this cron never fires" does not depend on when the spec is parsed. */
    static final List<String> SCHEDULE_FIELDS = List.of("cron", "on");
    private static final Instant NEVER_FIRES_PROBE = Instant.parse("2000-01-01T00:00:00Z");

    /** A spec is a page of YAML; one far larger is a mistake or an attack, refused before it is read. */
    public static final int MAX_SPEC_CHARS = 1024 * 1024;
    /** Specs nest a few levels (tasks.t.with.x); deeper ones are refused before they cost stack or heap. */
    public static final int MAX_NESTING_DEPTH = 50;
    /** Anchors save typing in a spec; hundreds of aliases only make sense as an expansion bomb. */
    public static final int MAX_ALIASES = 50;

    // Duplicate keys are almost always a copy-paste slip; YAML would silently keep the last one.
    private static final ObjectMapper MAPPER = YAMLMapper.builder(boundedYaml())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    private static final Pattern YAML_MARK = Pattern.compile("line (\\d+), column (\\d+)");
    private static final Pattern DUPLICATE_KEY = Pattern.compile("Duplicate field '([^']*)'");

    private SpecParser() {}

    /** The spec in {@code text}; throws with every shape problem found. */
    public static PipelineSpec parse(String text) throws SpecException {
        Result result = parseCollecting(text);
        if (!result.errors().isEmpty()) {
            throw new SpecException(result.errors());
        }
        return result.spec().orElseThrow();
    }

    /**
     * The spec as far as it could be read, plus the problems. {@code spec} is empty only when the
     * text is not a mapping at all; otherwise bad values fall back to defaults so that validation
     * can still run and report its own problems alongside these.
     */
    record Result(Optional<PipelineSpec> spec, List<SpecError> errors) {}

    static Result parseCollecting(String text) {
        List<SpecError> errors = new ArrayList<>();
        if (text != null && text.length() > MAX_SPEC_CHARS) {
            errors.add(new SpecError("", "the spec is " + text.length() + " characters long; at most " + MAX_SPEC_CHARS
                    + " (1 MiB) are accepted; split the pipeline or move data out of the spec into artifacts"));
            return new Result(Optional.empty(), errors);
        }
        JsonNode root;
        try (JsonParser yaml = new AliasCountingParser(MAPPER.createParser(text == null ? "" : text))) {
            root = MAPPER.readTree(yaml);
        } catch (TooManyAliases e) {
            errors.add(new SpecError("", e.getMessage()));
            return new Result(Optional.empty(), errors);
        } catch (StreamConstraintsException e) {
            errors.add(new SpecError("", "the spec nests deeper than " + MAX_NESTING_DEPTH + " levels" + position(e)
                    + "; flatten it (a pipeline needs only a few levels: tasks.<id>.with.<field>)"));
            return new Result(Optional.empty(), errors);
        } catch (JsonProcessingException e) {
            errors.add(new SpecError("", malformed(e)));
            return new Result(Optional.empty(), errors);
        } catch (IOException e) {
            throw new UncheckedIOException("reading a spec from a string failed", e);
        }
        if (FieldReader.absent(root)) {
            errors.add(new SpecError("", "the spec is empty; it needs at least 'pipeline' and 'tasks'"));
            return new Result(Optional.empty(), errors);
        }
        if (!root.isObject()) {
            errors.add(new SpecError("", "the spec must be a mapping with 'pipeline' and 'tasks' at the top, got "
                    + FieldReader.describe(root)));
            return new Result(Optional.empty(), errors);
        }
        return new Result(Optional.of(readPipeline(root, new FieldReader(errors, MAPPER))), errors);
    }

    /**
     * SnakeYAML's limits on what it reads: Jackson reads through SnakeYAML's event parser, which
     * enforces the code-point limit; the nesting limit is Jackson's own (StreamReadConstraints),
     * and aliases are counted by {@link AliasCountingParser}, since SnakeYAML counts them only when
     * it composes a node graph, which Jackson never asks it to.
     */
    private static YAMLFactory boundedYaml() {
        LoaderOptions limits = new LoaderOptions();
        limits.setCodePointLimit(MAX_SPEC_CHARS);
        limits.setMaxAliasesForCollections(MAX_ALIASES);
        limits.setNestingDepthLimit(MAX_NESTING_DEPTH);
        return YAMLFactory.builder()
                .loaderOptions(limits)
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                .build();
    }

    /** Refuses a document with more than {@link #MAX_ALIASES} aliases (*name), as soon as it meets the next one. */
    private static final class AliasCountingParser extends JsonParserDelegate {
        private int aliases;

        AliasCountingParser(JsonParser yaml) {
            super(yaml);
        }

        @Override
        public JsonToken nextToken() throws IOException {
            JsonToken token = super.nextToken();
            if (delegate() instanceof YAMLParser yaml && yaml.isCurrentAlias() && ++aliases > MAX_ALIASES) {
                throw new TooManyAliases("the spec uses more than " + MAX_ALIASES + " YAML aliases (*name)"
                        + yaml.currentLocation().offsetDescription() + "; write the values out instead of"
                        + " repeating anchors (a spec this full of aliases is refused as an expansion bomb)");
            }
            return token;
        }
    }

    private static final class TooManyAliases extends IOException {
        TooManyAliases(String message) {
            super(message);
        }
    }

    private static PipelineSpec readPipeline(JsonNode root, FieldReader r) {
        r.rejectUnknownFields(root, TOP_FIELDS, "", "the pipeline");
        String name = r.string(root.get("pipeline"), "pipeline").orElse("");
        if (FieldReader.absent(root.get("pipeline"))) {
            r.error("pipeline", "missing; name the pipeline, e.g. pipeline: mnist-int8");
        } else if (root.get("pipeline").isTextual()) {
            checkName(name, r);
        }
        DefaultArgs defaults = readDefaultArgs(root.get("default_args"), r);
        JsonNode schedule = root.get("schedule");
        boolean mapping = schedule != null && schedule.isObject();
        if (mapping) {
            r.rejectUnknownFields(schedule, SCHEDULE_FIELDS, "schedule.", "schedule");
            if (FieldReader.absent(schedule.get("cron")) && FieldReader.absent(schedule.get("on"))) {
                r.error("schedule", "a schedule mapping needs cron, on or both, e.g."
                        + " {cron: '@weekly', on: [{drift: fraud}, {dataset: transactions}]}");
            }
        }
        return new PipelineSpec(
                name,
                r.string(root.get("description"), "description").orElse(""),
                mapping ? readSchedule(schedule.get("cron"), "schedule.cron", r) : readSchedule(schedule, "schedule", r),
                r.bool(root.get("catchup"), "catchup").orElse(false),
                r.object(root.get("params"), "params", "{calibration_samples: 256}").orElse(Map.of()),
                defaults,
                readTasks(root.get("tasks"), defaults, r),
                mapping ? readTriggers(schedule.get("on"), r) : List.of(),
                r.maxActiveRuns(root.get("max_active_runs"), "max_active_runs").orElse(null));
    }

    private static void checkName(String name, FieldReader r) {
        if (!PIPELINE_NAME.matcher(name).matches()) {
            r.error("pipeline", "bad pipeline name '" + name + "'; use 1-63 lower-case letters, digits, '_' or '-',"
                    + " starting with a letter or digit, e.g. mnist-int8");
        }
    }

    /**
     * {@code schedule.on}: a list of one-key mappings, {@code {drift: <endpoint>}} or {@code {dataset: <name>}}.
     * Names must be well-formed; whether the endpoint or dataset exists is not checked (it may come later).
     */
    static List<EventTrigger> readTriggers(JsonNode node, FieldReader r) {
        if (FieldReader.absent(node)) {
            return List.of();
        }
        String example = "e.g. on: [{drift: fraud-detector}, {dataset: transactions}]";
        if (!node.isArray()) {
            r.error("schedule.on", "must be a list of events, " + example + "; got " + FieldReader.describe(node));
            return List.of();
        }
        List<EventTrigger> triggers = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode entry = node.get(i);
            String path = "schedule.on[" + i + "]";
            if (!entry.isObject() || entry.size() != 1) {
                r.error(path, "must be a mapping with exactly one of " + EventTrigger.KINDS + " naming an endpoint or"
                        + " a dataset, " + example + "; got " + FieldReader.describe(entry));
                continue;
            }
            String kind = entry.fieldNames().next();
            JsonNode value = entry.get(kind);
            if (!EventTrigger.KINDS.contains(kind)) {
                r.error(path, "unknown event '" + kind + "'; use drift (an endpoint whose drift check found drift)"
                        + " or dataset (a new version of a registered dataset)");
                continue;
            }
            if (!value.isTextual()) {
                r.error(path + "." + kind, "must be the " + (kind.equals(EventTrigger.DRIFT) ? "endpoint" : "dataset")
                        + " name as a string; got " + FieldReader.describe(value));
                continue;
            }
            try {
                EventTrigger trigger = new EventTrigger(kind, value.asText());
                if (triggers.contains(trigger)) {
                    r.error(path, "{" + kind + ": " + value.asText() + "} is listed twice; list each event once");
                    continue;
                }
                triggers.add(trigger);
            } catch (IllegalArgumentException e) {
                r.error(path + "." + kind, e.getMessage());
            }
        }
        return triggers;
    }

    private static Optional<Schedule> readSchedule(JsonNode node, String field, FieldReader r) {
        if (node != null && node.isObject()) {
            r.error(field, "a schedule mapping cannot nest another; write {cron: '@weekly', on: [...]}");
            return Optional.empty();
        }
        Optional<String> text = r.string(node, field);
        if (text.isEmpty() || text.get().isBlank() || text.get().strip().equals("none")) {
            return Optional.empty();
        }
        try {
            Schedule schedule = new Schedule(text.get());
            if (!schedule.firesOnce() && schedule.nextAfter(NEVER_FIRES_PROBE, ZoneOffset.UTC).isEmpty()) {
                r.error(field, "cron expression '" + schedule.expression()
                        + "' never fires (no such date); check the day-of-month and month fields");
                return Optional.empty();
            }
            return Optional.of(schedule);
        } catch (IllegalArgumentException e) {
            r.error(field, e.getMessage());
            return Optional.empty();
        }
    }

    private static DefaultArgs readDefaultArgs(JsonNode node, FieldReader r) {
        DefaultArgs b = DefaultArgs.BUILT_IN;
        if (FieldReader.absent(node)) {
            return b;
        }
        if (!node.isObject()) {
            r.error("default_args", "must be a mapping, e.g. {retries: 2, retry_delay: 30s}, got " + FieldReader.describe(node));
            return b;
        }
        r.rejectUnknownFields(node, DEFAULT_ARG_FIELDS, "default_args.", "default_args");
        return new DefaultArgs(
                r.retries(node.get("retries"), "default_args.retries").orElse(b.retries()),
                r.duration(node.get("retry_delay"), "default_args.retry_delay", false).orElse(b.retryDelay()),
                r.duration(node.get("execution_timeout"), "default_args.execution_timeout", true).orElse(b.executionTimeout()),
                r.triggerRule(node.get("trigger_rule"), "default_args.trigger_rule").orElse(b.triggerRule()),
                r.queue(node.get("queue"), "default_args.queue").or(b::queue),
                r.bool(node.get("cache"), "default_args.cache").orElse(b.cache()));
    }

    private static Map<String, TaskSpec> readTasks(JsonNode node, DefaultArgs defaults, FieldReader r) {
        Map<String, TaskSpec> tasks = new LinkedHashMap<>();
        if (FieldReader.absent(node)) {
            r.error("tasks", "missing; add a mapping of task id to task, e.g. tasks: {inspect: {operator: inspect}}");
            return tasks;
        }
        if (!node.isObject()) {
            r.error("tasks", "must be a mapping of task id to task, e.g. {inspect: {operator: inspect}}, got "
                    + FieldReader.describe(node));
            return tasks;
        }
        if (node.isEmpty()) {
            r.error("tasks", "is empty; a pipeline needs at least one task");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            readTask(e.getKey(), e.getValue(), defaults, r).ifPresent(t -> tasks.put(t.id(), t));
        }
        return tasks;
    }

    private static Optional<TaskSpec> readTask(String id, JsonNode node, DefaultArgs d, FieldReader r) {
        String p = "tasks." + id + ".";
        if (!TASK_ID.matcher(id).matches()) {
            r.error("tasks." + id, "bad task id '" + id + "'; use 1-63 letters, digits, '_' or '-', starting with a"
                    + " letter or '_'");
        }
        if (FieldReader.absent(node) || !node.isObject()) {
            r.error("tasks." + id, "must be a mapping with at least an operator, e.g. {operator: noop}, got "
                    + (node == null ? "nothing" : FieldReader.describe(node)));
            return Optional.empty();
        }
        r.rejectUnknownFields(node, TASK_FIELDS, p, "task '" + id + "'");
        String operator = r.string(node.get("operator"), p + "operator").orElse("");
        if (FieldReader.absent(node.get("operator"))) {
            r.error(p + "operator", "missing; name the operator this task runs, e.g. operator: noop");
        }
        return Optional.of(new TaskSpec(
                id,
                operator,
                readUpstream(node, p, r),
                r.triggerRule(node.get("trigger_rule"), p + "trigger_rule").orElse(d.triggerRule()),
                r.retries(node.get("retries"), p + "retries").orElse(d.retries()),
                r.duration(node.get("retry_delay"), p + "retry_delay", false).orElse(d.retryDelay()),
                r.duration(node.get("execution_timeout"), p + "execution_timeout", true).orElse(d.executionTimeout()),
                r.queue(node.get("queue"), p + "queue").or(d::queue),
                r.object(node.get("with"), p + "with", "{model: \"${params.model}\"}").orElse(Map.of()),
                r.bool(node.get("cache"), p + "cache").orElse(d.cache())));
    }

    /** {@code dependencies} is dag-factory's name for the same list. */
    private static List<String> readUpstream(JsonNode node, String p, FieldReader r) {
        boolean hasUpstream = !FieldReader.absent(node.get("upstream"));
        boolean hasDependencies = !FieldReader.absent(node.get("dependencies"));
        if (hasUpstream && hasDependencies) {
            r.error(p + "dependencies", "'dependencies' is another name for 'upstream'; use only one of them");
        }
        String field = hasUpstream || !hasDependencies ? "upstream" : "dependencies";
        return r.stringList(node.get(field), p + field, "[inspect]");
    }

    private static String malformed(JsonProcessingException e) {
        String where = position(e);
        Matcher duplicate = DUPLICATE_KEY.matcher(e.getOriginalMessage());
        if (duplicate.find()) {
            return "key '" + duplicate.group(1) + "' appears twice" + where + "; keep only one";
        }
        return "malformed YAML/JSON" + where + ": " + yamlProblem(e.getOriginalMessage())
                + "; fix the syntax there (indentation, quotes, brackets)";
    }

    /** SnakeYAML's own mark of the problem (its last one) is more precise than the parser's position. */
    private static String position(JsonProcessingException e) {
        Matcher mark = YAML_MARK.matcher(e.getOriginalMessage());
        String line = null;
        String column = null;
        while (mark.find()) {
            line = mark.group(1);
            column = mark.group(2);
        }
        if (line != null) {
            return " at line " + line + ", column " + column;
        }
        JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 0 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /**
     * SnakeYAML's message interleaves what it was doing and what went wrong with indented source
     * excerpts and "in 'reader'" positions; keep only the unindented sentences.
     */
    private static String yamlProblem(String message) {
        List<String> sentences = message.lines()
                .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)))
                .map(String::strip)
                .toList();
        return sentences.isEmpty() ? message.strip() : String.join(": ", sentences);
    }
}
