// Runs the JUnit 4 test classes and prints the closing line CI reads:
//   kotlin: N passed, N failed
// Exit status 0 only when every test passed (and at least one ran).

import org.junit.runner.Description
import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener
import kotlin.system.exitProcess

fun main() {
    val core = JUnitCore()
    core.addListener(object : RunListener() {
        private var started = 0L
        private var failed = false
        override fun testStarted(description: Description) {
            started = System.nanoTime()
            failed = false
        }
        override fun testFailure(failure: Failure) {
            failed = true
            println("FAIL ${failure.description.methodName}: ${failure.message}")
            failure.exception.printStackTrace(System.out)
        }
        override fun testFinished(description: Description) {
            val ms = (System.nanoTime() - started) / 1_000_000
            if (!failed) println("ok   ${description.methodName} ($ms ms)")
        }
        override fun testIgnored(description: Description) {
            println("skip ${description.methodName}")
        }
    })
    val classes = mutableListOf<Class<*>>(ShopLookTest::class.java)
    if (System.getenv("SHOPLOOK_CATALOGUE_URL") != null) {
        classes.add(CatalogueTest::class.java)
    } else {
        println("skip CatalogueTest: SHOPLOOK_CATALOGUE_URL is not set (no catalogue server)")
    }
    // More test classes compiled into the same jar (the demo apps' shared-logic tests,
    // android-demo/host-tests): -Dshoplook.extraTests=fully.qualified.Class,... A class that is
    // not there fails the run.
    for (name in (System.getProperty("shoplook.extraTests") ?: "").split(',').map { it.trim() }.filter { it.isNotEmpty() }) {
        if (System.getenv("SHOPLOOK_CATALOGUE_URL") == null && name.endsWith("FlowTest")) {
            println("skip $name: SHOPLOOK_CATALOGUE_URL is not set (no catalogue server)")
            continue
        }
        classes.add(Class.forName(name))
    }
    val result = core.run(*classes.toTypedArray())
    val failed = result.failureCount
    val passed = result.runCount - failed
    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
