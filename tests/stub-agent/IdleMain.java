// The main class of the JVMs the tests start (java -cp stub-app.jar IdleMain): it idles for up
// to two minutes. Kept apart from WhatapStub so the agent's classes come only from the agent
// jar, as the real tracer's do (doctor finds an attached agent by its jar open in the JVM).
public class IdleMain {
    public static void main(String[] args) throws Exception {
        Thread.sleep(120_000);
    }
}
