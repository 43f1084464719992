package org.digitalotp

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger

/**
 * A [SecureStore] written in Kotlin, the way an app implements it over its keystore:
 * a map in memory, with switches that make `write` fail the ways a real keystore can.
 *
 * - [failWrites]: `write` throws [HostException.Failed] (the documented way to fail);
 * - [throwUnexpected]: `write` throws a plain [RuntimeException], which UniFFI hands to
 *   Rust as an unexpected callback error (`HostError::Unexpected`);
 * - [dropWrites]: `write` returns normally but keeps nothing (a store that loses writes).
 *
 * Values are copied in and out, so the SDK can never alias the stored arrays.
 */
class TestStore : SecureStore {
    private val map = ConcurrentHashMap<String, ByteArray>()

    @Volatile var failWrites = false
    @Volatile var throwUnexpected = false
    @Volatile var dropWrites = false

    /** Every call to `write`, whatever its outcome. */
    val writeCalls = AtomicInteger()

    override fun read(key: String): ByteArray? = map[key]?.copyOf()

    override fun write(key: String, value: ByteArray) {
        writeCalls.incrementAndGet()
        if (failWrites) throw HostException.Failed("keystore unavailable")
        if (throwUnexpected) throw RuntimeException("keystore crashed")
        if (dropWrites) return
        map[key] = value.copyOf()
    }

    override fun delete(key: String) {
        map.remove(key)
    }

    /** The whole content, key to hex of the value, sorted by key: compare two with `==`. */
    fun snapshot(): Map<String, String> =
        map.entries.associate { (k, v) -> k to v.toHex() }.toSortedMap()

    /** The keys starting with [prefix], sorted. */
    fun keys(prefix: String = ""): List<String> = map.keys.filter { it.startsWith(prefix) }.sorted()

    /** A copy of every stored value. */
    fun values(): List<ByteArray> = map.values.map { it.copyOf() }

    fun isEmpty(): Boolean = map.isEmpty()

    /** A healthy store holding a copy of this one's content (a backup of the phone). */
    fun copy(): TestStore = TestStore().also { backup -> map.forEach { (k, v) -> backup.map[k] = v.copyOf() } }

    /**
     * Puts back exactly the content of [backup] (an earlier [copy]): every value this store
     * has that [backup] has not is dropped. What an attacker does who restores an old
     * image of the phone's storage between guesses.
     */
    fun restore(backup: TestStore) {
        map.clear()
        backup.map.forEach { (k, v) -> map[k] = v.copyOf() }
    }

    private fun ByteArray.toHex(): String = joinToString("") { "%02x".format(it) }
}
