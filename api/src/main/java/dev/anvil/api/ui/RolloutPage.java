package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.Rollout;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.RolloutStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * A rollout as the UI shows it: the row, where it stands among its steps, each analysed window with its
 * canary error rate and p95 latency against the stable version's (as a table with bars: the bars are
 * {@code bar-0} .. {@code bar-20} classes of style.css, widths in steps of 5 %, because the pages'
 * Content-Security-Policy refuses inline styles), and which commands the viewer may give it.
 *
 * @param live     the workflow's status while it runs, else null (then the windows are the row's last analysis)
 * @param commands the buttons to show: empty when the rollout finished or the viewer may not steer
 * @param maySteer whether the viewer holds the role reviewer or admin
 */
record RolloutPage(Rollout rollout, RolloutStatus live, List<Window> windows, List<String> commands, boolean maySteer,
                   String done, String error) {

    /** The bar classes' resolution: bar-20 is the widest. */
    static final int BAR_STEPS = 20;

    /** One analysed window, with its bars scaled against the widest value on the page. */
    record Window(int index, Analysis analysis, int errorBar, int canaryP95Bar, int stableP95Bar) {
        public String errorRatePercent() {
            return String.format(java.util.Locale.ROOT, "%.2f", analysis.canaryErrorRate() * 100);
        }
    }

    /** The live step counted from 1, as people count (the workflow counts from 0). */
    public int stepNumber() {
        return live == null ? 0 : live.step() + 1;
    }

    public boolean finished() {
        return Rollout.TERMINAL.contains(rollout.state());
    }

    /** The rollout's id for a URL path (ids are ours, but the page escapes nothing into paths unencoded). */
    public String path() {
        return java.net.URLEncoder.encode(rollout.id(), java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    static RolloutPage of(Rollout rollout, RolloutStatus live, boolean maySteer, ObjectMapper json, String done,
                          String error) {
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
        return new RolloutPage(rollout, live, windows, commands, maySteer, done, error);
    }

    static int bar(double value, double max) {
        if (!(value > 0) || !(max > 0)) {
            return 0;
        }
        return (int) Math.max(1, Math.round(BAR_STEPS * Math.min(1, value / max)));
    }
}
