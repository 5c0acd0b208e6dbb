package dev.trialbridge.validator;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The official HL7 validator engine (org.hl7.fhir.validation through HAPI's FhirInstanceValidator) over many files
 * in one JVM, since start-up takes seconds.
 *
 * <p>Usage: {@code java -cp CLASSPATH dev.trialbridge.validator.OfficialValidator [--version R4|R5]
 * [--package DIR] [PATH...]}. Without paths, one input per stdin line: {@code PATH} or {@code R4<TAB>PATH}. One JSON
 * line per input on stdout: {@code {"path", "version", "issues": [{severity, code, message, location, line, col}]}},
 * or {@code {"path", "error"}} when the file cannot be read. A file with no version given is validated as R4 and
 * as R5 and the version with fewer errors kept (R4 on a tie), with {@code "version_guessed": true}.
 *
 * <p>Offline, nothing is switched off: core definitions, in-memory terminology, the common code systems (UCUM,
 * BCP-47, ISO ...), and a support that reports a code system it cannot look up (LOINC, SNOMED) as a warning.
 */
public final class OfficialValidator {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, FhirValidator> validators = new LinkedHashMap<>();
  private final Path packageDir;

  private OfficialValidator(Path packageDir) {
    this.packageDir = packageDir;
  }

  public static void main(String[] args) throws IOException {
    String version = null;
    Path packageDir = Path.of("fhir-package");
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--version" -> version = args[++i].toUpperCase();
        case "--package" -> packageDir = Path.of(args[++i]);
        default -> paths.add(args[i]);
      }
    }
    OfficialValidator engine = new OfficialValidator(packageDir);
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    if (!paths.isEmpty()) {
      for (String path : paths) {
        out.println(engine.validateLine(version, path));
        out.flush();
      }
      return;
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) {
        continue;
      }
      int tab = line.indexOf('\t');
      String lineVersion = tab < 0 ? version : line.substring(0, tab).toUpperCase();
      String path = tab < 0 ? line : line.substring(tab + 1);
      out.println(engine.validateLine(lineVersion, path));
      out.flush();
    }
  }

  /** The JSON line for one input; never throws, so one bad file does not end the run. */
  private String validateLine(String version, String path) throws IOException {
    ObjectNode result = JSON.createObjectNode();
    result.put("path", path);
    String text;
    try {
      text = Files.readString(Path.of(path), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      result.put("error", "cannot read the file: " + e);
      return JSON.writeValueAsString(result);
    }
    boolean ndjson = path.endsWith(".ndjson");
    try {
      if (version != null) {
        result.put("version", version);
        result.set("issues", issuesOf(version, text, ndjson));
      } else {
        ArrayNode r4 = issuesOf("R4", text, ndjson);
        ArrayNode r5 = issuesOf("R5", text, ndjson);
        boolean r5Better = errorCount(r5) < errorCount(r4);
        result.put("version", r5Better ? "R5" : "R4");
        result.put("version_guessed", true);
        result.set("issues", r5Better ? r5 : r4);
      }
    } catch (RuntimeException e) {
      result.put("error", "the engine failed: " + e);
    }
    return JSON.writeValueAsString(result);
  }

  /**
   * The issues of one document, or of each line of an NDJSON file, where an issue's line is the NDJSON line (the
   * resource) and its column the engine's column within it.
   */
  private ArrayNode issuesOf(String version, String text, boolean ndjson) {
    if (!ndjson) {
      return issues(validator(version).validateWithResult(text));
    }
    ArrayNode all = JSON.createArrayNode();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].isBlank()) {
        continue;
      }
      for (JsonNode issue : issues(validator(version).validateWithResult(lines[i]))) {
        ((ObjectNode) issue).put("line", i + 1);
        all.add(issue);
      }
    }
    return all;
  }

  private static long errorCount(ArrayNode issues) {
    long count = 0;
    for (JsonNode issue : issues) {
      String severity = issue.get("severity").asText();
      if (severity.equals("error") || severity.equals("fatal")) {
        count++;
      }
    }
    return count;
  }

  private static ArrayNode issues(ValidationResult result) {
    ArrayNode issues = JSON.createArrayNode();
    for (SingleValidationMessage message : result.getMessages()) {
      ObjectNode issue = issues.addObject();
      ResultSeverityEnum severity = message.getSeverity();
      issue.put("severity", severity == null ? "error" : severity.getCode());
      issue.put("code", message.getMessageId());
      issue.put("message", message.getMessage());
      issue.put("location", message.getLocationString());
      if (message.getLocationLine() != null) {
        issue.put("line", message.getLocationLine());
      }
      if (message.getLocationCol() != null) {
        issue.put("col", message.getLocationCol());
      }
    }
    return issues;
  }

  /** The validator of one FHIR version, built on first use (loading the core definitions takes seconds). */
  private FhirValidator validator(String version) {
    return validators.computeIfAbsent(version, this::buildValidator);
  }

  private FhirValidator buildValidator(String version) {
    FhirContext context = switch (version) {
      case "R4" -> FhirContext.forR4();
      case "R5" -> FhirContext.forR5();
      default -> throw new IllegalArgumentException("FHIR version " + version + " is not R4 or R5");
    };
    UnknownCodeSystemWarningValidationSupport unknownCodeSystems =
        new UnknownCodeSystemWarningValidationSupport(context);
    unknownCodeSystems.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);
    ValidationSupportChain chain = new ValidationSupportChain(
        new DefaultProfileValidationSupport(context),
        projectPackage(context, version),
        new InMemoryTerminologyServerValidationSupport(context),
        new CommonCodeSystemsTerminologyService(context),
        new SnapshotGeneratingValidationSupport(context),  // the package's profiles carry differentials only
        unknownCodeSystems);
    FhirValidator validator = context.newValidator();
    validator.registerValidatorModule(new FhirInstanceValidator(chain));
    return validator;
  }

  /**
   * The project's own definitions (extensions, code systems, value sets): every *.json resource under the package
   * folder whose fhirVersion (when it states one) is this version. No folder: an empty support.
   */
  private PrePopulatedValidationSupport projectPackage(FhirContext context, String version) {
    PrePopulatedValidationSupport support = new PrePopulatedValidationSupport(context);
    if (!Files.isDirectory(packageDir)) {
      return support;
    }
    IParser parser = context.newJsonParser();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(packageDir)) {
      files = walk.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      System.err.println("official validator: cannot read " + packageDir + ": " + e);
      return support;
    }
    for (Path file : files) {
      try {
        JsonNode node = JSON.readTree(file.toFile());
        if (node == null || !node.has("resourceType")) {
          continue;  // package.json, .index.json
        }
        String stated = node.path("fhirVersion").asText("");
        if (!stated.isEmpty() && !stated.startsWith(version.equals("R4") ? "4.0" : "5.0")) {
          continue;
        }
        IBaseResource resource = parser.parseResource(node.toString());
        support.addResource(resource);
      } catch (IOException | RuntimeException e) {
        System.err.println("official validator: skipped " + file + " for " + version + ": " + e.getMessage());
      }
    }
    return support;
  }
}
