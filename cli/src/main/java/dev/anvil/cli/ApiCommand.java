package dev.anvil.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A leaf command: reaches the CLI's context and an API client through the root command. */
public abstract class ApiCommand implements Callable<Integer> {
    @Spec
    protected CommandSpec spec;

    protected AnvilCli root() {
        return (AnvilCli) spec.root().userObject();
    }

    protected CliContext ctx() {
        return root().context();
    }

    protected ApiClient api() {
        return root().api();
    }

    protected PrintWriter out() {
        return ctx().out();
    }

    protected PrintWriter err() {
        return ctx().err();
    }

    @Override
    public Integer call() throws Exception {
        run();
        return ExitCodes.OK;
    }

    protected void run() throws Exception {}
}
