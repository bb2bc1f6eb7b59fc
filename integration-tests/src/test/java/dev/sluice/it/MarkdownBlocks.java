package dev.sluice.it;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The fenced code blocks of a Markdown page, with their line and the HTML comments right before them. */
final class MarkdownBlocks {
    private static final Pattern FENCE = Pattern.compile("^(\\s*)```\\s*([\\w-]*)\\s*$");
    private static final Pattern COMMENT = Pattern.compile("^\\s*<!--\\s*(.*?)\\s*-->\\s*$");

    private MarkdownBlocks() {}

    /**
     * One fenced block.
     *
     * @param line the 1-based line of the opening fence
     * @param language the fence's info string ({@code yaml}, {@code bash}, …; empty when none)
     * @param text the lines between the fences, indentation of the fence removed, each ending in \n
     * @param markers the contents of the HTML comments on the lines directly above the fence
     */
    record Block(int line, String language, String text, List<String> markers) {}

    static List<Block> parse(String markdown) {
        String[] lines = markdown.split("\n", -1);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            Matcher open = FENCE.matcher(lines[i]);
            if (!open.matches()) {
                continue;
            }
            String indent = open.group(1);
            List<String> markers = new ArrayList<>();
            for (int k = i - 1; k >= 0; k--) {
                Matcher comment = COMMENT.matcher(lines[k]);
                if (!comment.matches()) {
                    break;
                }
                markers.add(0, comment.group(1));
            }
            StringBuilder text = new StringBuilder();
            int j = i + 1;
            while (j < lines.length && !lines[j].strip().equals("```")) {
                String l = lines[j];
                text.append(l.startsWith(indent) ? l.substring(indent.length()) : l.stripLeading()).append('\n');
                j++;
            }
            if (j == lines.length) {
                throw new AssertionError("the code block opened on line " + (i + 1) + " is never closed");
            }
            blocks.add(new Block(i + 1, open.group(2), text.toString(), markers));
            i = j;
        }
        return blocks;
    }
}
