package dev.anvil.api.auth;

import java.util.EnumSet;
import java.util.Set;

/** What a token lets its holder do. Names as stored in api_tokens.roles. */
public enum Role {
    /** Reads the API: runs, pipelines, artifacts and their content, approvals, endpoints, rollouts. */
    VIEWER,
    /** Registers pipelines, starts, cancels and retries runs, uploads artifacts. */
    SUBMITTER,
    /** Decides approvals (never on their own runs). */
    REVIEWER,
    /** Makes tokens; may do what a submitter may, but decides no approvals unless also a reviewer. */
    ADMIN,
    /** Calls inference (/v2/models/...) on endpoints that are not public; reads nothing else. */
    INVOKER;

    public String wireName() {
        return name().toLowerCase();
    }

    /**
     * The roles this one grants besides itself: whoever may change things may read them (submitter, reviewer
     * and admin imply viewer), and an admin may call every endpoint (invoker). An invoker is a serving client
     * and reads nothing else.
     */
    public Set<Role> implied() {
        return switch (this) {
            case SUBMITTER, REVIEWER -> EnumSet.of(VIEWER);
            case ADMIN -> EnumSet.of(VIEWER, INVOKER);
            case VIEWER, INVOKER -> EnumSet.noneOf(Role.class);
        };
    }

    /** The role with this wire name, or null. */
    public static Role ofWireName(String name) {
        for (Role role : values()) {
            if (role.wireName().equals(name)) {
                return role;
            }
        }
        return null;
    }
}
