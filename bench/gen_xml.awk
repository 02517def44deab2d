# Writes an XML document for xmllint: a catalog of records with attributes,
# nested elements, text with entity and character references, comments,
# CDATA, a namespace, and an internal DTD that --valid checks.
#   awk -v seed=N -v records=N -f gen_xml.awk
# Park-Miller, so every awk writes the same bytes.
function rnd(n) { state = (state * 16807) % 2147483647; return state % n }
function word(   i, n, w) {
	n = 3 + rnd(7); w = ""
	for (i = 0; i < n; i++) w = w substr("etaoinshrdlucmfwypvbgkqjxz", 1 + int(rnd(26) * rnd(26) / 26), 1)
	return w
}
function text(k,   i, s) {
	s = word()
	for (i = 1; i < k; i++) s = s (rnd(9) ? " " : " &amp; ") word()
	return s
}
BEGIN {
	state = seed + 1
	split("book disc map", kinds, " ")
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	print "<!DOCTYPE catalog ["
	print "<!ELEMENT catalog (record*)>"
	print "<!ELEMENT record (title, author+, price, tags?, note*)>"
	print "<!ATTLIST record id ID #REQUIRED kind (book|disc|map) \"book\" year CDATA #IMPLIED>"
	print "<!ELEMENT title (#PCDATA)>"
	print "<!ELEMENT author (#PCDATA)>"
	print "<!ATTLIST author role CDATA #IMPLIED>"
	print "<!ELEMENT price (#PCDATA)>"
	print "<!ATTLIST price cur (EUR|USD|GBP) \"EUR\">"
	print "<!ELEMENT tags (tag*)>"
	print "<!ELEMENT tag (#PCDATA)>"
	print "<!ELEMENT note (#PCDATA)>"
	print "<!ATTLIST note xmlns:x CDATA #IMPLIED x:lang CDATA #IMPLIED>"
	print "<!ENTITY pub \"Published by the Example Press\">"
	print "]>"
	print "<catalog>"
	for (i = 1; i <= records; i++) {
		printf "  <record id=\"r%d\" kind=\"%s\" year=\"%d\">\n", i, kinds[1 + rnd(3)], 1900 + rnd(125)
		printf "    <title>%s</title>\n", text(2 + rnd(6))
		for (j = 0; j <= rnd(3); j++)
			printf "    <author%s>%s %s</author>\n", rnd(3) ? "" : " role=\"editor\"", word(), word()
		printf "    <price cur=\"%s\">%d.%02d</price>\n", substr("EURUSDGBP", 1 + 3 * rnd(3), 3), rnd(200), rnd(100)
		if (rnd(2)) {
			printf "    <tags>"
			for (j = 0; j <= rnd(5); j++) printf "<tag>%s</tag>", word()
			print "</tags>"
		}
		k = rnd(4)
		if (k == 0) printf "    <note>%s &pub; &#169; %d</note>\n", text(5 + rnd(20)), rnd(1000)
		else if (k == 1) printf "    <note xmlns:x=\"urn:x\" x:lang=\"en\"><![CDATA[%s <raw> & more]]></note>\n", text(3 + rnd(10))
		else if (k == 2) printf "    <!-- %s -->\n", text(3)
		print "  </record>"
	}
	print "</catalog>"
}
