// Stands in for the proprietary whatap.agent.tracer jar in tests: when the JVM loads it as a
// -javaagent, premain writes a marker file (the path from -Dwhatap.stub.marker, else
// "stub-agent.loaded" beside the jar) holding the PID and the agent arguments; loaded into a
// running JVM (attach), agentmain writes "agentmain pid=..." the same way. Its main() just
// idles for up to two minutes: a real JVM whose command line doctor tests can shape.
import java.io.File;
import java.io.FileWriter;
import java.lang.instrument.Instrumentation;

public class WhatapStub {
    public static void main(String[] args) throws Exception {
        Thread.sleep(120_000);
    }

    public static void premain(String args, Instrumentation inst) throws Exception {
        mark("pid=" + ProcessHandle.current().pid() + " args=" + args);
    }

    public static void agentmain(String args, Instrumentation inst) throws Exception {
        mark("agentmain pid=" + ProcessHandle.current().pid() + " args=" + args);
    }

    private static void mark(String line) throws Exception {
        String path = System.getProperty("whatap.stub.marker");
        if (path == null) {
            File jar = new File(WhatapStub.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            path = new File(jar.getParentFile(), "stub-agent.loaded").getPath();
        }
        try (FileWriter out = new FileWriter(path, true)) {
            out.write(line + "\n");
        }
    }
}
