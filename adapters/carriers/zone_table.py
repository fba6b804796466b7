"""Where a carrier scan happened -> the IANA time zone its local clock shows, as data.

Tracking providers often send a scan's local wall-clock time with no UTC
offset (AfterShip ``checkpoint_time``, the Chinese providers' strings). To
place such a time on the UTC axis we need the zone of the place it happened:

- ``COUNTRIES``: every ISO 3166 country (alpha-2 and alpha-3, as AfterShip's
  ``country_iso3``/``country_region`` send them) with one zone. For a country
  that spans several zones it is the zone where most people live (US
  ``America/New_York``, Canada ``America/Toronto``, Australia
  ``Australia/Sydney``, Russia ``Europe/Moscow``, Brazil ``America/Sao_Paulo``,
  Mexico ``America/Mexico_City``); China is ``Asia/Shanghai`` throughout, as
  its carriers report Beijing time.
- ``REGIONS``: for the multi-zone countries carriers serve most (US, CA, AU,
  BR, MX, RU), the zone of each state / province / federal subject, by its
  postal code and its English (or local) name.

Every zone here is checked against the tz database's ``zone.tab`` by the tests.
"""

from __future__ import annotations

#: "ISO2 ISO3 zone", one country per line. XK (Kosovo) is not in ISO 3166 but carriers use it.
_COUNTRIES = """
AD AND Europe/Andorra
AE ARE Asia/Dubai
AF AFG Asia/Kabul
AG ATG America/Antigua
AI AIA America/Anguilla
AL ALB Europe/Tirane
AM ARM Asia/Yerevan
AO AGO Africa/Luanda
AQ ATA Antarctica/McMurdo
AR ARG America/Argentina/Buenos_Aires
AS ASM Pacific/Pago_Pago
AT AUT Europe/Vienna
AU AUS Australia/Sydney
AW ABW America/Aruba
AX ALA Europe/Mariehamn
AZ AZE Asia/Baku
BA BIH Europe/Sarajevo
BB BRB America/Barbados
BD BGD Asia/Dhaka
BE BEL Europe/Brussels
BF BFA Africa/Ouagadougou
BG BGR Europe/Sofia
BH BHR Asia/Bahrain
BI BDI Africa/Bujumbura
BJ BEN Africa/Porto-Novo
BL BLM America/St_Barthelemy
BM BMU Atlantic/Bermuda
BN BRN Asia/Brunei
BO BOL America/La_Paz
BQ BES America/Kralendijk
BR BRA America/Sao_Paulo
BS BHS America/Nassau
BT BTN Asia/Thimphu
BW BWA Africa/Gaborone
BY BLR Europe/Minsk
BZ BLZ America/Belize
CA CAN America/Toronto
CC CCK Indian/Cocos
CD COD Africa/Kinshasa
CF CAF Africa/Bangui
CG COG Africa/Brazzaville
CH CHE Europe/Zurich
CI CIV Africa/Abidjan
CK COK Pacific/Rarotonga
CL CHL America/Santiago
CM CMR Africa/Douala
CN CHN Asia/Shanghai
CO COL America/Bogota
CR CRI America/Costa_Rica
CU CUB America/Havana
CV CPV Atlantic/Cape_Verde
CW CUW America/Curacao
CX CXR Indian/Christmas
CY CYP Asia/Nicosia
CZ CZE Europe/Prague
DE DEU Europe/Berlin
DJ DJI Africa/Djibouti
DK DNK Europe/Copenhagen
DM DMA America/Dominica
DO DOM America/Santo_Domingo
DZ DZA Africa/Algiers
EC ECU America/Guayaquil
EE EST Europe/Tallinn
EG EGY Africa/Cairo
EH ESH Africa/El_Aaiun
ER ERI Africa/Asmara
ES ESP Europe/Madrid
ET ETH Africa/Addis_Ababa
FI FIN Europe/Helsinki
FJ FJI Pacific/Fiji
FK FLK Atlantic/Stanley
FM FSM Pacific/Chuuk
FO FRO Atlantic/Faroe
FR FRA Europe/Paris
GA GAB Africa/Libreville
GB GBR Europe/London
GD GRD America/Grenada
GE GEO Asia/Tbilisi
GF GUF America/Cayenne
GG GGY Europe/Guernsey
GH GHA Africa/Accra
GI GIB Europe/Gibraltar
GL GRL America/Nuuk
GM GMB Africa/Banjul
GN GIN Africa/Conakry
GP GLP America/Guadeloupe
GQ GNQ Africa/Malabo
GR GRC Europe/Athens
GS SGS Atlantic/South_Georgia
GT GTM America/Guatemala
GU GUM Pacific/Guam
GW GNB Africa/Bissau
GY GUY America/Guyana
HK HKG Asia/Hong_Kong
HN HND America/Tegucigalpa
HR HRV Europe/Zagreb
HT HTI America/Port-au-Prince
HU HUN Europe/Budapest
ID IDN Asia/Jakarta
IE IRL Europe/Dublin
IL ISR Asia/Jerusalem
IM IMN Europe/Isle_of_Man
IN IND Asia/Kolkata
IO IOT Indian/Chagos
IQ IRQ Asia/Baghdad
IR IRN Asia/Tehran
IS ISL Atlantic/Reykjavik
IT ITA Europe/Rome
JE JEY Europe/Jersey
JM JAM America/Jamaica
JO JOR Asia/Amman
JP JPN Asia/Tokyo
KE KEN Africa/Nairobi
KG KGZ Asia/Bishkek
KH KHM Asia/Phnom_Penh
KI KIR Pacific/Tarawa
KM COM Indian/Comoro
KN KNA America/St_Kitts
KP PRK Asia/Pyongyang
KR KOR Asia/Seoul
KW KWT Asia/Kuwait
KY CYM America/Cayman
KZ KAZ Asia/Almaty
LA LAO Asia/Vientiane
LB LBN Asia/Beirut
LC LCA America/St_Lucia
LI LIE Europe/Vaduz
LK LKA Asia/Colombo
LR LBR Africa/Monrovia
LS LSO Africa/Maseru
LT LTU Europe/Vilnius
LU LUX Europe/Luxembourg
LV LVA Europe/Riga
LY LBY Africa/Tripoli
MA MAR Africa/Casablanca
MC MCO Europe/Monaco
MD MDA Europe/Chisinau
ME MNE Europe/Podgorica
MF MAF America/Marigot
MG MDG Indian/Antananarivo
MH MHL Pacific/Majuro
MK MKD Europe/Skopje
ML MLI Africa/Bamako
MM MMR Asia/Yangon
MN MNG Asia/Ulaanbaatar
MO MAC Asia/Macau
MP MNP Pacific/Saipan
MQ MTQ America/Martinique
MR MRT Africa/Nouakchott
MS MSR America/Montserrat
MT MLT Europe/Malta
MU MUS Indian/Mauritius
MV MDV Indian/Maldives
MW MWI Africa/Blantyre
MX MEX America/Mexico_City
MY MYS Asia/Kuala_Lumpur
MZ MOZ Africa/Maputo
NA NAM Africa/Windhoek
NC NCL Pacific/Noumea
NE NER Africa/Niamey
NF NFK Pacific/Norfolk
NG NGA Africa/Lagos
NI NIC America/Managua
NL NLD Europe/Amsterdam
NO NOR Europe/Oslo
NP NPL Asia/Kathmandu
NR NRU Pacific/Nauru
NU NIU Pacific/Niue
NZ NZL Pacific/Auckland
OM OMN Asia/Muscat
PA PAN America/Panama
PE PER America/Lima
PF PYF Pacific/Tahiti
PG PNG Pacific/Port_Moresby
PH PHL Asia/Manila
PK PAK Asia/Karachi
PL POL Europe/Warsaw
PM SPM America/Miquelon
PN PCN Pacific/Pitcairn
PR PRI America/Puerto_Rico
PS PSE Asia/Hebron
PT PRT Europe/Lisbon
PW PLW Pacific/Palau
PY PRY America/Asuncion
QA QAT Asia/Qatar
RE REU Indian/Reunion
RO ROU Europe/Bucharest
RS SRB Europe/Belgrade
RU RUS Europe/Moscow
RW RWA Africa/Kigali
SA SAU Asia/Riyadh
SB SLB Pacific/Guadalcanal
SC SYC Indian/Mahe
SD SDN Africa/Khartoum
SE SWE Europe/Stockholm
SG SGP Asia/Singapore
SH SHN Atlantic/St_Helena
SI SVN Europe/Ljubljana
SJ SJM Arctic/Longyearbyen
SK SVK Europe/Bratislava
SL SLE Africa/Freetown
SM SMR Europe/San_Marino
SN SEN Africa/Dakar
SO SOM Africa/Mogadishu
SR SUR America/Paramaribo
SS SSD Africa/Juba
ST STP Africa/Sao_Tome
SV SLV America/El_Salvador
SX SXM America/Lower_Princes
SY SYR Asia/Damascus
SZ SWZ Africa/Mbabane
TC TCA America/Grand_Turk
TD TCD Africa/Ndjamena
TF ATF Indian/Kerguelen
TG TGO Africa/Lome
TH THA Asia/Bangkok
TJ TJK Asia/Dushanbe
TK TKL Pacific/Fakaofo
TL TLS Asia/Dili
TM TKM Asia/Ashgabat
TN TUN Africa/Tunis
TO TON Pacific/Tongatapu
TR TUR Europe/Istanbul
TT TTO America/Port_of_Spain
TV TUV Pacific/Funafuti
TW TWN Asia/Taipei
TZ TZA Africa/Dar_es_Salaam
UA UKR Europe/Kyiv
UG UGA Africa/Kampala
UM UMI Pacific/Midway
US USA America/New_York
UY URY America/Montevideo
UZ UZB Asia/Tashkent
VA VAT Europe/Vatican
VC VCT America/St_Vincent
VE VEN America/Caracas
VG VGB America/Tortola
VI VIR America/St_Thomas
VN VNM Asia/Ho_Chi_Minh
VU VUT Pacific/Efate
WF WLF Pacific/Wallis
WS WSM Pacific/Apia
XK XKX Europe/Belgrade
YE YEM Asia/Aden
YT MYT Indian/Mayotte
ZA ZAF Africa/Johannesburg
ZM ZMB Africa/Lusaka
ZW ZWE Africa/Harare
"""

#: "ISO2|region code or name, ...|zone": the names a carrier may write for one region.
_REGIONS = """
US|AL, Alabama|America/Chicago
US|AK, Alaska|America/Anchorage
US|AZ, Arizona|America/Phoenix
US|AR, Arkansas|America/Chicago
US|CA, California|America/Los_Angeles
US|CO, Colorado|America/Denver
US|CT, Connecticut|America/New_York
US|DE, Delaware|America/New_York
US|DC, District of Columbia, Washington DC|America/New_York
US|FL, Florida|America/New_York
US|GA, Georgia|America/New_York
US|HI, Hawaii|Pacific/Honolulu
US|ID, Idaho|America/Boise
US|IL, Illinois|America/Chicago
US|IN, Indiana|America/Indiana/Indianapolis
US|IA, Iowa|America/Chicago
US|KS, Kansas|America/Chicago
US|KY, Kentucky|America/Kentucky/Louisville
US|LA, Louisiana|America/Chicago
US|ME, Maine|America/New_York
US|MD, Maryland|America/New_York
US|MA, Massachusetts|America/New_York
US|MI, Michigan|America/Detroit
US|MN, Minnesota|America/Chicago
US|MS, Mississippi|America/Chicago
US|MO, Missouri|America/Chicago
US|MT, Montana|America/Denver
US|NE, Nebraska|America/Chicago
US|NV, Nevada|America/Los_Angeles
US|NH, New Hampshire|America/New_York
US|NJ, New Jersey|America/New_York
US|NM, New Mexico|America/Denver
US|NY, New York|America/New_York
US|NC, North Carolina|America/New_York
US|ND, North Dakota|America/Chicago
US|OH, Ohio|America/New_York
US|OK, Oklahoma|America/Chicago
US|OR, Oregon|America/Los_Angeles
US|PA, Pennsylvania|America/New_York
US|RI, Rhode Island|America/New_York
US|SC, South Carolina|America/New_York
US|SD, South Dakota|America/Chicago
US|TN, Tennessee|America/Chicago
US|TX, Texas|America/Chicago
US|UT, Utah|America/Denver
US|VT, Vermont|America/New_York
US|VA, Virginia|America/New_York
US|WA, Washington|America/Los_Angeles
US|WV, West Virginia|America/New_York
US|WI, Wisconsin|America/Chicago
US|WY, Wyoming|America/Denver
US|PR, Puerto Rico|America/Puerto_Rico
US|GU, Guam|Pacific/Guam
US|VI, Virgin Islands, US Virgin Islands|America/St_Thomas
US|AS, American Samoa|Pacific/Pago_Pago
US|MP, Northern Mariana Islands|Pacific/Saipan
CA|AB, Alberta|America/Edmonton
CA|BC, British Columbia|America/Vancouver
CA|MB, Manitoba|America/Winnipeg
CA|NB, New Brunswick|America/Moncton
CA|NL, Newfoundland and Labrador, Newfoundland|America/St_Johns
CA|NS, Nova Scotia|America/Halifax
CA|NT, Northwest Territories|America/Edmonton
CA|NU, Nunavut|America/Iqaluit
CA|ON, Ontario|America/Toronto
CA|PE, Prince Edward Island|America/Halifax
CA|QC, Quebec|America/Toronto
CA|SK, Saskatchewan|America/Regina
CA|YT, Yukon|America/Whitehorse
AU|NSW, New South Wales|Australia/Sydney
AU|VIC, Victoria|Australia/Melbourne
AU|QLD, Queensland|Australia/Brisbane
AU|SA, South Australia|Australia/Adelaide
AU|WA, Western Australia|Australia/Perth
AU|TAS, Tasmania|Australia/Hobart
AU|ACT, Australian Capital Territory|Australia/Sydney
AU|NT, Northern Territory|Australia/Darwin
BR|AC, Acre|America/Rio_Branco
BR|AL, Alagoas|America/Maceio
BR|AP, Amapa|America/Belem
BR|AM, Amazonas|America/Manaus
BR|BA, Bahia|America/Bahia
BR|CE, Ceara|America/Fortaleza
BR|DF, Distrito Federal, Brasilia|America/Sao_Paulo
BR|ES, Espirito Santo|America/Sao_Paulo
BR|GO, Goias|America/Sao_Paulo
BR|MA, Maranhao|America/Fortaleza
BR|MT, Mato Grosso|America/Cuiaba
BR|MS, Mato Grosso do Sul|America/Campo_Grande
BR|MG, Minas Gerais|America/Sao_Paulo
BR|PA, Para|America/Belem
BR|PB, Paraiba|America/Fortaleza
BR|PR, Parana|America/Sao_Paulo
BR|PE, Pernambuco|America/Recife
BR|PI, Piaui|America/Fortaleza
BR|RJ, Rio de Janeiro|America/Sao_Paulo
BR|RN, Rio Grande do Norte|America/Fortaleza
BR|RS, Rio Grande do Sul|America/Sao_Paulo
BR|RO, Rondonia|America/Porto_Velho
BR|RR, Roraima|America/Boa_Vista
BR|SC, Santa Catarina|America/Sao_Paulo
BR|SP, Sao Paulo|America/Sao_Paulo
BR|SE, Sergipe|America/Maceio
BR|TO, Tocantins|America/Araguaina
MX|AGU, AGS, Aguascalientes|America/Mexico_City
MX|BCN, BC, Baja California|America/Tijuana
MX|BCS, Baja California Sur|America/Mazatlan
MX|CAM, Campeche|America/Merida
MX|CHP, Chiapas|America/Mexico_City
MX|CHH, Chihuahua|America/Chihuahua
MX|CMX, CDMX, DF, Ciudad de Mexico, Mexico City, Distrito Federal|America/Mexico_City
MX|COA, Coahuila, Coahuila de Zaragoza|America/Monterrey
MX|COL, Colima|America/Mexico_City
MX|DUR, Durango|America/Monterrey
MX|GUA, Guanajuato|America/Mexico_City
MX|GRO, Guerrero|America/Mexico_City
MX|HID, Hidalgo|America/Mexico_City
MX|JAL, Jalisco|America/Mexico_City
MX|MEX, EDOMEX, Estado de Mexico, Mexico State|America/Mexico_City
MX|MIC, Michoacan, Michoacan de Ocampo|America/Mexico_City
MX|MOR, Morelos|America/Mexico_City
MX|NAY, Nayarit|America/Mazatlan
MX|NLE, NL, Nuevo Leon|America/Monterrey
MX|OAX, Oaxaca|America/Mexico_City
MX|PUE, Puebla|America/Mexico_City
MX|QUE, QRO, Queretaro|America/Mexico_City
MX|ROO, QR, Quintana Roo|America/Cancun
MX|SLP, San Luis Potosi|America/Mexico_City
MX|SIN, Sinaloa|America/Mazatlan
MX|SON, Sonora|America/Hermosillo
MX|TAB, Tabasco|America/Mexico_City
MX|TAM, Tamaulipas|America/Monterrey
MX|TLA, Tlaxcala|America/Mexico_City
MX|VER, Veracruz|America/Mexico_City
MX|YUC, Yucatan|America/Merida
MX|ZAC, Zacatecas|America/Mexico_City
RU|KGD, Kaliningrad|Europe/Kaliningrad
RU|MOW, Moscow, Moskva|Europe/Moscow
RU|MOS, Moscow Oblast, Moskovskaya|Europe/Moscow
RU|SPE, Saint Petersburg, St Petersburg, Sankt-Peterburg|Europe/Moscow
RU|LEN, Leningrad, Leningradskaya|Europe/Moscow
RU|Adygea, Arkhangelsk, Belgorod, Bryansk, Chechnya, Chuvashia, Dagestan, Ingushetia, Ivanovo|Europe/Moscow
RU|Kabardino-Balkaria, Kalmykia, Kaluga, Karachay-Cherkessia, Karelia, Kirov, Komi, Kostroma|Europe/Moscow
RU|Krasnodar, Kursk, Lipetsk, Mari El, Mordovia, Murmansk, Nenets, Nizhny Novgorod, North Ossetia|Europe/Moscow
RU|Novgorod, Oryol, Orel, Penza, Pskov, Rostov, Ryazan, Smolensk, Stavropol, Tambov, Tatarstan|Europe/Moscow
RU|Tula, Tver, Vladimir, Vologda, Volgograd, Voronezh, Yaroslavl|Europe/Moscow
RU|Samara, Udmurtia|Europe/Samara
RU|Astrakhan|Europe/Astrakhan
RU|Saratov|Europe/Saratov
RU|Ulyanovsk|Europe/Ulyanovsk
RU|Sverdlovsk, Yekaterinburg, Chelyabinsk, Kurgan, Orenburg, Perm, Bashkortostan, Tyumen|Asia/Yekaterinburg
RU|Khanty-Mansi, Khanty-Mansiysk, Yamalo-Nenets|Asia/Yekaterinburg
RU|Omsk|Asia/Omsk
RU|Novosibirsk|Asia/Novosibirsk
RU|Altai, Altai Krai|Asia/Barnaul
RU|Tomsk|Asia/Tomsk
RU|Kemerovo, Kuzbass|Asia/Novokuznetsk
RU|Krasnoyarsk, Khakassia, Tuva|Asia/Krasnoyarsk
RU|Irkutsk, Buryatia|Asia/Irkutsk
RU|Zabaykalsky, Chita|Asia/Chita
RU|Sakha, Yakutia, Amur|Asia/Yakutsk
RU|Primorsky, Primorye, Vladivostok, Khabarovsk, Jewish|Asia/Vladivostok
RU|Magadan|Asia/Magadan
RU|Sakhalin|Asia/Sakhalin
RU|Kamchatka|Asia/Kamchatka
RU|Chukotka|Asia/Anadyr
"""


def _countries() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for line in _COUNTRIES.strip().splitlines():
        alpha2, alpha3, zone = line.split()
        table[alpha2] = (alpha2, zone)
        table[alpha3] = (alpha2, zone)
    return table


def _regions() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for line in _REGIONS.strip().splitlines():
        country, names, zone = line.split("|")
        rows.extend((country, name.strip(), zone) for name in names.split(","))
    return rows


#: ISO alpha-2 or alpha-3 code -> (alpha-2, zone).
COUNTRIES: dict[str, tuple[str, str]] = _countries()
#: (alpha-2 country, region code or name, zone), several names per region.
REGIONS: list[tuple[str, str, str]] = _regions()
