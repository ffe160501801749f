package dev.anvil.serving;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks stable or canary for a request. With a routing key the choice is a hash of the key, so a
 * caller keeps its version while the weight stays put, and stays on the canary as the weight
 * grows (its bucket stays below the weight); without one it is a fresh draw per request.
 */
final class Router {
    private Router() {
    }

    static boolean toCanary(int weight, String routingKey) {
        if (weight <= 0) {
            return false;
        }
        if (weight >= 100) {
            return true;
        }
        int bucket = routingKey == null || routingKey.isEmpty()
                ? ThreadLocalRandom.current().nextInt(100)
                : bucket(routingKey);
        return bucket < weight;
    }

    /** The key's bucket 0..99: FNV-1a over its UTF-8 bytes with a final avalanche mix. */
    static int bucket(String routingKey) {
        int h = 0x811c9dc5;
        for (byte b : routingKey.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return Math.floorMod(h, 100);
    }
}
