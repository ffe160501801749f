package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "approvals", description = "Human approvals that gate runs: list, show, approve, reject.",
        subcommands = {ApprovalsCommand.List.class, ApprovalsCommand.Show.class, ApprovalsCommand.Approve.class,
                ApprovalsCommand.Reject.class})
public class ApprovalsCommand extends GroupCommand {

    @Command(name = "list", description = "Approvals, newest first.")
    static class List extends ApiCommand {
        @Option(names = "--state", description = "pending, approved, rejected or expired") String state;
        @Option(names = "--limit", defaultValue = "100", description = "at most this many, 1..1000 (default 100)") int limit;
        @Mixin Output output;

        @Override
        protected void run() {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("state", state);
            q.put("limit", limit);
            output.list(out(), api().get("/api/approvals" + ApiClient.query(q)),
                    "id", "pipeline", "run", "task", "state", "requiredApprovals", "requestedBy", "requestedAt");
        }
    }

    @Command(name = "show", description = "One approval with its decisions and evidence.")
    static class Show extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/approvals/" + segment(id)));
        }
    }

    abstract static class Decide extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Option(names = {"-m", "--comment"}, description = "why (kept with the decision)") String comment;
        @Mixin Output output;

        abstract String verb();

        @Override
        protected void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (comment != null) {
                body.put("comment", comment);
            }
            JsonNode res = api().post("/api/approvals/" + segment(id) + "/" + verb(), body);
            output.object(out(), res);
        }
    }

    @Command(name = "approve", description = "Approve (role reviewer; not the run's submitter).")
    static class Approve extends Decide {
        String verb() {
            return "approve";
        }
    }

    @Command(name = "reject", description = "Reject (role reviewer; not the run's submitter).")
    static class Reject extends Decide {
        String verb() {
            return "reject";
        }
    }
}
