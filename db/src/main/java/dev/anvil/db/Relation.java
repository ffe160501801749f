package dev.anvil.db;

/** The W3C PROV relations between a task run (activity) and an artifact (entity). */
public enum Relation {
    /** The task run read the artifact (prov:used). */
    USED("used"),
    /** The task run wrote the artifact (prov:wasGeneratedBy, seen from the activity). */
    GENERATED("generated");

    private final String sqlValue;

    Relation(String sqlValue) {
        this.sqlValue = sqlValue;
    }

    /** The value stored in lineage_edges.relation. */
    public String sqlValue() {
        return sqlValue;
    }

    static Relation fromSql(String value) {
        for (Relation r : values()) {
            if (r.sqlValue.equals(value)) {
                return r;
            }
        }
        throw new IllegalStateException("lineage_edges.relation holds '" + value + "', which this build does not know");
    }
}
