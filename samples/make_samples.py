"""Write the three sample-dump files that cannot be plain UTF-8 text files in the repository.

    python samples/make_samples.py

Every other file under samples/dump/ is committed as written. This script only produces:

- fenwick-post/c2e9a4b7f013.txt.gz      a text story, gzip-compressed (mtime=0: same bytes on every run)
- la-voz-del-valle/6b0d3e8a2f54.txt     a Spanish story encoded in ISO-8859-1 (Latin-1), not valid UTF-8
- harborline-gazette/2f7e9c41d6a3.txt   a tiny PNG image saved under a .txt name (a vendor mistake)

The output is deterministic: running it again rewrites byte-identical files. All texts are fictional.
"""
from __future__ import annotations

import gzip
import random
import struct
import zlib
from pathlib import Path

DUMP = Path(__file__).resolve().parent / "dump" / "2024-03"

FENWICK_POST = """\
Fenwick Post
News | Farm & Rural | Business | Sport | Opinion | Events | Subscribe
Farm & Rural > Dairy
Fenwick dairy co-op opens its own cheese plant after processor closes

By Owen Castellane | March 5, 2024 | 6:40 pm

FENWICK: A cooperative of 31 dairy farms around Fenwick began making its own cheese on Monday, eighteen months after the closure of the region's last milk processor left its members trucking milk more than three hours to the nearest buyer.
The Upper Fenwick Dairy Cooperative has converted a former potato warehouse on the Millbrook road into a cheese plant able to handle about 60,000 litres of milk a day, roughly half of what its members produce. The rest will still go to a processor in the south of the state, but on a shorter contract.
"Every day we were pouring money into diesel and hoping the tanker made it over the pass," said cooperative chair Bettina Colquhoun, who milks 180 cows with her two sons. "Now a good share of our milk is turned into cheese five kilometres from where it was milked."
ADVERTISEMENT
The plant cost about $9 million. Members put in $2.5 million of their own money, and the rest came from a state rural development loan and a regional bank. Twenty-two people have been hired, most of them from Fenwick and the neighbouring villages.
Head cheesemaker Arturo Benedetti, who moved from a large plant on the coast to run the operation, said the first products would be a mild cheddar and a washed-rind cheese named after the river that runs past the warehouse. The cheddar will need at least six months in the ripening room before it can be sold.
Local shops and restaurants have already placed orders, and the cooperative is in talks with two supermarket chains. Colquhoun said members had agreed not to pay themselves a dividend for the first three years so that profits could go into paying down the loan.
Agricultural economist Miriam Toller of Kerrigan Vale University said small cooperative plants faced tough competition from large processors but could do well if they built a strong regional brand. "The risk is real, but so was the risk of doing nothing," she said. "Without a local buyer, some of these farms would not have lasted another winter."
The cooperative plans to open a small shop and viewing window at the plant in the summer.

Share this:
Facebook | X | Email
More from Farm & Rural
Fenwick saleyards record strong prices for spring calves
Water allocations cut again for the Millbrook irrigators
(c) Fenwick Post Pty Ltd
"""

LA_VOZ_DEL_VALLE = """\
La Voz del Valle | Portada | Comarca | Economía | Deportes | Opinión | Agenda
InicioComarcaCastrillo del Alba abre un mercado de productores en la antigua estación de tren

Castrillo del Alba abre un mercado de productores en la antigua estación de tren

Por Lucía Arrieta

CASTRILLO DEL ALBA, 6 de marzo de 2024 - El Ayuntamiento de Castrillo del Alba inaugurará el próximo sábado un mercado de productores locales en la antigua estación de tren, cerrada a los viajeros desde hace más de treinta años. El edificio, que llevaba una década abandonado, ha sido rehabilitado con una inversión de 420.000 euros, financiada en parte por la Diputación.
El mercado abrirá todos los sábados por la mañana y contará con veintidós puestos de agricultores, queseros, apicultores y panaderos de la comarca. Según la alcaldesa, Begoña Urquiaga, la iniciativa busca que los pequeños productores «vendan sin intermediarios y a un precio justo».

La antigua estación de Castrillo del Alba, rehabilitada como mercado de productores.
 La antigua estación de Castrillo del Alba, rehabilitada como mercado de productores.

«Durante años hemos visto cómo cerraban las tiendas del pueblo y cómo la gente tenía que coger el coche para comprar un kilo de tomates», explicó Urquiaga durante la presentación. «¿Por qué no aprovechar un edificio que ya es nuestro?»
PUBLICIDAD
Los puestos se han adjudicado por sorteo entre los treinta y cinco solicitantes. Cada productor pagará una cuota simbólica de quince euros al mes, destinada al mantenimiento y a la limpieza del espacio.
Un espacio también para la cultura
Además del mercado, la antigua sala de espera acogerá talleres de cocina, exposiciones y una pequeña biblioteca de semillas gestionada por la asociación vecinal El Andén. Su presidente, Ramón Ibáñez, recordó que la estación fue durante décadas «el corazón del pueblo» y que muchos vecinos todavía guardan fotografías del último tren.
No todos comparten el entusiasmo. Algunos comerciantes de la plaza Mayor temen que el mercado les reste clientes. El Ayuntamiento asegura que el horario se ha pensado para no coincidir con la feria de los jueves y que los puestos no venderán productos que ya se ofrecen en las tiendas del pueblo.
La inauguración está prevista para las diez de la mañana, con una degustación de productos de la huerta, pan de leña y música de la banda municipal. ¡Todos los vecinos están invitados!

Compartir:
Facebook | X | WhatsApp | Correo
Noticias relacionadas
La Diputación aprueba ayudas para rehabilitar edificios ferroviarios
El paro baja en la comarca por tercer mes consecutivo
© La Voz del Valle. Todos los derechos reservados.
"""


def tiny_png(width: int = 8, height: int = 8, seed: int = 20240311) -> bytes:
    """A valid PNG of random pixels; stored (level 0) deflate so the bytes never depend on zlib's version."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(width * 3)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


def main() -> None:
    outputs = {
        DUMP / "fenwick-post" / "c2e9a4b7f013.txt.gz": gzip.compress(FENWICK_POST.encode("utf-8"), mtime=0),
        DUMP / "la-voz-del-valle" / "6b0d3e8a2f54.txt": LA_VOZ_DEL_VALLE.encode("latin-1"),
        DUMP / "harborline-gazette" / "2f7e9c41d6a3.txt": tiny_png(),
    }
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{path.relative_to(DUMP.parent.parent)}  {len(data)} bytes")


if __name__ == "__main__":
    main()
