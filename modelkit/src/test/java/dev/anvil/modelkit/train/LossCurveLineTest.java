package dev.anvil.modelkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/** The loss lines Tribuo logs, read back as numbers, a diverged objective's infinities and NaN included. */
class LossCurveLineTest {

    @Test
    void everyFormTribuoPrintsIsReadAsOneNumber() {
        assertThat(value("At iteration 10, average loss = -0.6931471805599453")).isEqualTo(-0.6931471805599453);
        assertThat(value("At iteration 20, average loss = 1.5E-4")).isEqualTo(1.5e-4);
        assertThat(value("At iteration 30, average loss = -Infinity")).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(value("At iteration 40, average loss = Infinity")).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(value("At iteration 50, average loss = NaN")).isNaN();
    }

    @Test
    void aLineWithoutANumberIsNotALossLine() {
        assertThat(LossCurve.LINE.matcher("At iteration 60, average loss = -").find()).isFalse();
        assertThat(LossCurve.LINE.matcher("At iteration 70, average loss = ").find()).isFalse();
    }

    private static double value(String line) {
        Matcher m = LossCurve.LINE.matcher(line);
        assertThat(m.find()).as(line).isTrue();
        return Double.parseDouble(m.group(2));
    }
}
