package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutWindow;
import io.quarkus.qute.RawString;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.RolloutStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A rollout as the UI shows it: the row, where it stands among its steps, each analysed window with its
 * canary error rate and p95 latency against the stable version's (as a table with bars: the bars are
 * {@code bar-0} .. {@code bar-20} classes of style.css, widths in steps of 5 %, because the pages'
 * Content-Security-Policy refuses inline styles), and which commands the viewer may give it.
 *
 * @param live     the workflow's status while it runs, else null (then the windows are the row's last analysis)
 * @param recorded every analysed window as stored (rollout_windows), one entry per version compared
 * @param chart    {@link #recorded} as the data of charts.js's windows chart (error rate and p95 per version per
 *                 window), null when no window is recorded
 * @param commands the buttons to show: empty when the rollout finished or the viewer may not steer
 * @param maySteer whether the viewer holds the role reviewer or admin
 */
record RolloutPage(Rollout rollout, RolloutStatus live, List<Window> windows, List<RolloutWindow> recorded,
                   RawString chart, List<String> commands, boolean maySteer, String done, String error) {

    /** The bar classes' resolution: bar-20 is the widest. */
    static final int BAR_STEPS = 20;

    /** One analysed window, with its bars scaled against the widest value on the page. */
    record Window(int index, Analysis analysis, int errorBar, int canaryP95Bar, int stableP95Bar) {
        public String errorRatePercent() {
            return String.format(java.util.Locale.ROOT, "%.2f", analysis.canaryErrorRate() * 100);
        }
    }

    /**
     * The live step counted from 1, as people count (the workflow counts from 0, and once every step passed, while
     * it promotes, its index is one past the last: that reads as the last step, not "step 4 of 3").
     */
    public int stepNumber() {
        return live == null ? 0 : Math.min(live.step() + 1, live.steps());
    }

    public boolean finished() {
        return Rollout.TERMINAL.contains(rollout.state());
    }

    /** The rollout's id for a URL path (ids are ours, but the page escapes nothing into paths unencoded). */
    public String path() {
        return java.net.URLEncoder.encode(rollout.id(), java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    static RolloutPage of(Rollout rollout, RolloutStatus live, List<RolloutWindow> recorded, boolean maySteer,
                          ObjectMapper json, String done, String error) {
        List<Analysis> analyses = new ArrayList<>();
        if (live != null && live.analyses() != null) {
            analyses.addAll(live.analyses());
        } else if (rollout.analysisJson() != null) {
            try {
                analyses.add(json.readValue(rollout.analysisJson(), Analysis.class));
            } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
                // an analysis this version cannot read: the page shows the rollout without it
            }
        }
        double maxRate = analyses.stream().mapToDouble(Analysis::canaryErrorRate).max().orElse(0);
        double maxP95 = analyses.stream().mapToDouble(a -> Math.max(a.canaryP95Ms(), a.stableP95Ms())).max().orElse(0);
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < analyses.size(); i++) {
            Analysis a = analyses.get(i);
            windows.add(new Window(i + 1, a, bar(a.canaryErrorRate(), maxRate), bar(a.canaryP95Ms(), maxP95),
                    bar(a.stableP95Ms(), maxP95)));
        }
        String state = live != null && live.state() != null ? live.state() : rollout.state();
        List<String> commands = !maySteer || Rollout.TERMINAL.contains(rollout.state()) ? List.of()
                : "paused".equals(state) ? List.of("resume", "promote", "abort") : List.of("pause", "promote", "abort");
        return new RolloutPage(rollout, live, windows, recorded, recorded.isEmpty() ? null
                : Charts.scriptJson(chartData(recorded), json), commands, maySteer, done, error);
    }

    /**
     * The windows chart's data: the window numbers, and per version (canary v2, stable v1) its error rate and p95
     * per window, null where it served nothing (nothing measured: the chart leaves a gap, never a zero).
     */
    static Map<String, Object> chartData(List<RolloutWindow> recorded) {
        List<Integer> numbers = recorded.stream().map(RolloutWindow::window).distinct().sorted().toList();
        Map<String, List<RolloutWindow>> byVersion = new LinkedHashMap<>();
        for (String role : List.of(RolloutWindow.CANARY, RolloutWindow.STABLE)) {
            recorded.stream().filter(w -> w.role().equals(role)).forEach(w -> byVersion.computeIfAbsent(
                    role + (w.version() == null ? "" : " v" + w.version()), k -> new ArrayList<>()).add(w));
        }
        List<Map<String, Object>> series = new ArrayList<>();
        byVersion.forEach((name, rows) -> {
            List<Double> errorRate = new ArrayList<>(java.util.Collections.nCopies(numbers.size(), null));
            List<Double> p95 = new ArrayList<>(java.util.Collections.nCopies(numbers.size(), null));
            for (RolloutWindow w : rows) {
                int i = numbers.indexOf(w.window());
                errorRate.set(i, w.errorRate());
                p95.set(i, w.p95Ms());
            }
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("name", name);
            s.put("errorRate", errorRate);
            s.put("p95Ms", p95);
            series.add(s);
        });
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("windows", numbers);
        data.put("series", series);
        return data;
    }

    static int bar(double value, double max) {
        if (!(value > 0) || !(max > 0)) {
            return 0;
        }
        return (int) Math.max(1, Math.round(BAR_STEPS * Math.min(1, value / max)));
    }
}
