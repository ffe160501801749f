#!/usr/bin/env python3
"""CPU breakdown of a JFR recording of bench/pipeline-overhead.sh (see bench/README.md): execution samples by
component (the first that matches, from the frames and the thread: Temporal dev server, JDBC, SDK workflow task
handling, SDK activity handling, gRPC), by self method, and by frames of interest anywhere in the stack.

  jfr print --events jdk.ExecutionSample --stack-depth 300 rec.jfr | bench/jfr-cpu-breakdown.py [--last SECONDS]

--last keeps the samples of the recording's last SECONDS (the measured phase: its wall time in the bench's
output); --after HH:MM:SS keeps those from then on."""
import re, sys, collections
args = sys.argv[1:]
after = None; last = None
if '--after' in args: after = args[args.index('--after') + 1]
if '--last' in args: last = float(args[args.index('--last') + 1])
events = []
cur = None
for line in sys.stdin:
    line = line.rstrip('\n')
    if line.startswith('jdk.ExecutionSample'):
        cur = {'frames': []}
    elif cur is not None:
        s = line.strip()
        if s.startswith('startTime ='): cur['t'] = s.split('=', 1)[1].strip()
        elif s.startswith('sampledThread ='): cur['thread'] = s.split('"')[1]
        elif s.startswith('stackTrace') or s == ']' or s == '...': pass
        elif s == '}': events.append(cur); cur = None
        elif s and not s.startswith('state'): cur['frames'].append(re.sub(r'\s+line:.*$', '', s))
def secs(t):
    h, m, s = t.split(':'); return int(h) * 3600 + int(m) * 60 + float(s)
if last is not None and events:
    end = max(secs(e['t']) for e in events); events = [e for e in events if secs(e['t']) >= end - last]
if after is not None:
    events = [e for e in events if secs(e['t']) >= secs(after)]
n = len(events)
print(f'{n} samples')
def component(e):
    th = e['thread']; fr = e['frames']; joined = '\n'.join(fr)
    if 'io.temporal.internal.testservice' in joined: return 'Temporal test server (io.temporal.internal.testservice)'
    if 'org.postgresql' in joined: return 'JDBC (org.postgresql)'
    if th.startswith('workflow-method') or 'io.temporal.internal.replay' in joined or 'io.temporal.internal.statemachines' in joined or 'io.temporal.internal.sync' in joined:
        return 'SDK workflow task handling (replay, state machines, workflow threads)'
    if 'io.temporal.internal.activity' in joined or 'io.temporal.internal.worker.Activity' in joined:
        return 'SDK activity handling'
    if 'ServerImpl' in joined or 'ServerCalls' in joined: return 'gRPC server side (dev server transport, outside its handlers)'
    if 'ClientCall' in joined or 'ClientCalls' in joined or 'io.temporal.serviceclient' in joined: return 'gRPC client side (worker/bench stubs)'
    if 'io.grpc' in joined or 'io.netty' in joined or 'grpc' in th.lower(): return 'gRPC / Netty event loops (both sides)'
    if 'dev.anvil' in joined: return 'Anvil code (other)'
    if th.startswith('GC') or 'JFR' in th or 'Jfr' in joined: return 'JVM (GC, JFR)'
    return 'other: ' + th[:40]
def count(keyf, title, top=25):
    c = collections.Counter(keyf(e) for e in events)
    print(f'\n== {title}')
    for k, v in c.most_common(top): print(f'{100.0 * v / n:5.1f}%  {v:5d}  {k}')
count(component, 'by component (first match: test server, JDBC, SDK replay, SDK activity, gRPC, Anvil)')
count(lambda e: e['thread'].split('-')[0].split(':')[0].split(' ')[0], 'by thread name prefix', 15)
count(lambda e: e['frames'][0] if e['frames'] else '?', 'self (top frame)', 25)
# inclusive: any frame in the stack matching patterns
pats = {
 'Thread.getStackTrace (test server update())': 'java.lang.Thread.getStackTrace',
 'Throwable.fillInStackTrace / exceptions': 'java.lang.Throwable.fillInStackTrace',
 'protobuf (com.google.protobuf)': 'com.google.protobuf',
 'Jackson (com.fasterxml.jackson)': 'com.fasterxml.jackson',
 'Temporal DataConverter': 'io.temporal.common.converter',
 'SDK replay: ReplayWorkflowTaskHandler.handleWorkflowTask': 'io.temporal.internal.replay.ReplayWorkflowTaskHandler.handleWorkflowTask',
 'SDK: WorkflowStateMachines.handleEvent': 'io.temporal.internal.statemachines.WorkflowStateMachines.handleEvent',
 'SDK: DeterministicRunner (workflow threads)': 'io.temporal.internal.sync.DeterministicRunnerImpl',
 'SDK: thread creation (Thread.start)': 'java.lang.Thread.start',
 'PipelineWorkflowImpl': 'dev.anvil.workflows.pipeline.PipelineWorkflowImpl',
 'TaskActivitiesImpl': 'dev.anvil.activities.pipeline.TaskActivitiesImpl',
 'test server getWorkflowExecutionHistory': 'getWorkflowExecutionHistory',
 'test server pollWorkflowTaskQueue': 'TestWorkflowService.pollWorkflowTaskQueue',
 'test server respondWorkflowTaskCompleted': 'TestWorkflowService.respondWorkflowTaskCompleted',
 'test server respondActivityTaskCompleted': 'TestWorkflowService.respondActivityTaskCompleted',
 'test server startWorkflowExecution': 'TestWorkflowService.startWorkflowExecution',
 'test server (any)': 'io.temporal.internal.testservice',
 'logging (slf4j/jboss)': 'org.slf4j',
 'HikariCP/pool': 'PooledDataSource',
}
print('\n== inclusive (sample has the frame anywhere in its stack)')
for name, p in pats.items():
    v = sum(1 for e in events if any(p in f for f in e['frames']))
    print(f'{100.0 * v / n:5.1f}%  {v:5d}  {name}')
