// Writes the R class of the app (id/berani/R.kt) from android/src/main/res, for compiling and
// testing the app's Kotlin on a plain JVM where there is no aapt2.
//
//   java android/tools/GenR.java RES_DIR OUT_DIR PACKAGE
//
// On a real build the Android Gradle plugin runs aapt2, which compiles the resources and
// produces R itself; this file is not used there. The ids here follow aapt2's layout
// (0x7f TT EEEE: package, type, entry; types and entries in name order) but are only
// guaranteed to be unique and stable, not equal to aapt2's. Besides the ids it checks what
// would otherwise only fail on a phone: every file parses as XML, no resource is defined twice
// in one folder, every translated string exists in the default language (values/), every
// default string is translated into every values-LANG/ folder, and a translation has the same
// format arguments as its default.
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

public class GenR {
    // Folders whose files are one resource each, named after the file.
    static final Set<String> FILE_TYPES = Set.of(
            "drawable", "mipmap", "xml", "layout", "raw", "anim", "animator", "menu", "font", "color");
    // Elements of values/ files and the R type they belong to.
    static final Map<String, String> VALUE_TYPES = Map.ofEntries(
            Map.entry("string", "string"), Map.entry("color", "color"), Map.entry("dimen", "dimen"),
            Map.entry("bool", "bool"), Map.entry("integer", "integer"), Map.entry("style", "style"),
            Map.entry("plurals", "plurals"), Map.entry("string-array", "array"),
            Map.entry("integer-array", "array"), Map.entry("array", "array"));
    static final Pattern PLUS_ID = Pattern.compile("@\\+id/([A-Za-z0-9_]+)");
    static final Pattern FORMAT_ARG = Pattern.compile("%(\\d+\\$)?[-#+ 0,(]*\\d*(\\.\\d+)?([sdfxXc%])");

    final Map<String, Set<String>> names = new TreeMap<>();
    // values folder ("values", "values-en") -> string name -> text
    final Map<String, Map<String, String>> strings = new TreeMap<>();
    final List<String> problems = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java GenR.java RES_DIR OUT_DIR PACKAGE");
            System.exit(2);
        }
        GenR g = new GenR();
        g.scan(Paths.get(args[0]));
        g.checkTranslations();
        if (!g.problems.isEmpty()) {
            g.problems.forEach(p -> System.err.println("resources: " + p));
            System.exit(1);
        }
        Path out = Paths.get(args[1]).resolve(args[2].replace('.', '/')).resolve("R.kt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, g.render(args[2]), StandardCharsets.UTF_8);
        int count = g.names.values().stream().mapToInt(Set::size).sum();
        System.out.println("R: " + count + " resources in " + g.names.size() + " types -> " + out);
    }

    void add(String type, String name) {
        names.computeIfAbsent(type, t -> new TreeSet<>()).add(name.replace('.', '_'));
    }

    void scan(Path res) throws Exception {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(res)) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        }
        for (Path dir : dirs) {
            String folder = dir.getFileName().toString();
            String type = folder.split("-", 2)[0];
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            Set<String> seen = new TreeSet<>();
            for (Path f : files) {
                String file = f.getFileName().toString();
                if (type.equals("values")) {
                    scanValues(folder, f, seen);
                } else if (FILE_TYPES.contains(type)) {
                    String name = file.contains(".") ? file.substring(0, file.indexOf('.')) : file;
                    if (!name.matches("[a-z][a-z0-9_]*")) problems.add(folder + "/" + file + ": bad file name");
                    if (!seen.add(name)) problems.add(folder + "/" + name + ": defined twice");
                    add(type, name);
                    if (file.endsWith(".xml")) {
                        parse(f);
                        Matcher m = PLUS_ID.matcher(Files.readString(f));
                        while (m.find()) add("id", m.group(1));
                    }
                } else {
                    problems.add(folder + ": unknown resource folder");
                }
            }
        }
    }

    Document parse(Path f) {
        try {
            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setNamespaceAware(true);
            return dbf.newDocumentBuilder().parse(f.toFile());
        } catch (Exception e) {
            problems.add(f + ": not well-formed XML: " + e.getMessage());
            return null;
        }
    }

    void scanValues(String folder, Path f, Set<String> seen) {
        Document doc = parse(f);
        if (doc == null) return;
        NodeList nodes = doc.getDocumentElement().getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node n = nodes.item(i);
            if (!(n instanceof Element e)) continue;
            String tag = e.getTagName();
            String type = tag.equals("item") ? e.getAttribute("type") : VALUE_TYPES.get(tag);
            String name = e.getAttribute("name");
            if (type == null || type.isEmpty() || name.isEmpty()) {
                problems.add(f + ": <" + tag + "> is not a resource this generator knows");
                continue;
            }
            if (!seen.add(type + "/" + name)) problems.add(folder + ": " + type + "/" + name + " defined twice");
            add(type, name);
            if (type.equals("string") && !"false".equals(e.getAttribute("translatable"))) {
                strings.computeIfAbsent(folder, k -> new TreeMap<>()).put(name, e.getTextContent());
            } else if (type.equals("string")) {
                strings.computeIfAbsent(folder + "#untranslatable", k -> new TreeMap<>()).put(name, e.getTextContent());
            }
        }
    }

    static List<String> formatArgs(String s) {
        List<String> args = new ArrayList<>();
        Matcher m = FORMAT_ARG.matcher(s);
        while (m.find()) if (!m.group(3).equals("%")) args.add(m.group());
        args.sort(null);
        return args;
    }

    void checkTranslations() {
        Map<String, String> base = strings.getOrDefault("values", Map.of());
        Set<String> untranslatable = strings.getOrDefault("values#untranslatable", Map.of()).keySet();
        for (var entry : strings.entrySet()) {
            String folder = entry.getKey();
            if (folder.equals("values") || folder.contains("#")) continue;
            for (var s : entry.getValue().entrySet()) {
                if (untranslatable.contains(s.getKey())) {
                    problems.add(folder + ": string/" + s.getKey() + " is marked translatable=\"false\" in values/");
                } else if (!base.containsKey(s.getKey())) {
                    problems.add(folder + ": string/" + s.getKey() + " has no default in values/");
                } else if (!formatArgs(base.get(s.getKey())).equals(formatArgs(s.getValue()))) {
                    problems.add(folder + ": string/" + s.getKey() + " has other format arguments than values/");
                }
            }
            for (String name : base.keySet()) {
                if (!entry.getValue().containsKey(name)) problems.add(folder + ": string/" + name + " is not translated");
            }
        }
    }

    String render(String pkg) {
        StringBuilder b = new StringBuilder();
        b.append("// Generated by android/tools/GenR.java from android/src/main/res for the JVM build; do not edit.\n");
        b.append("// On a real build aapt2 (the Android Gradle plugin) generates R instead.\n");
        b.append("@file:Suppress(\"ClassName\", \"unused\")\n\npackage ").append(pkg).append("\n\nobject R {\n");
        int typeIndex = 1;
        for (var t : names.entrySet()) {
            b.append("    object ").append(t.getKey()).append(" {\n");
            int entry = 0;
            for (String name : t.getValue()) {
                int id = 0x7f000000 | (typeIndex << 16) | entry++;
                b.append("        const val ").append(name).append(": Int = 0x").append(Integer.toHexString(id)).append("\n");
            }
            b.append("    }\n");
            typeIndex++;
        }
        return b.append("}\n").toString();
    }
}
