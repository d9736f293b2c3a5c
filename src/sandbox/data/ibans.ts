import { composeIBAN, isValidIBAN } from 'ibantools';

/** Lithuanian IBAN (ConnectPay is a Lithuanian EMI): 5-digit bank code + 11-digit account. */
export function lithuanianIban(bankCode: string, account: string): string {
  return compose('LT', bankCode + account.padStart(11, '0'));
}

/** Italian IBAN (Flowe): CIN + ABI + CAB + 12-character account, with the national CIN check letter. */
export function italianIban(abi: string, cab: string, account: string): string {
  const national = abi + cab + account.padStart(12, '0');
  return compose('IT', italianCin(national) + national);
}

function compose(countryCode: string, bban: string): string {
  const iban = composeIBAN({ countryCode, bban });
  if (iban === null || !isValidIBAN(iban)) throw new Error(`cannot compose a ${countryCode} IBAN from ${bban}`);
  return iban;
}

// CIN ("Codice di controllo interno"): odd positions map through a fixed table, even positions to 0..25.
const ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function italianCin(national: string): string {
  let sum = 0;
  for (let i = 0; i < national.length; i++) {
    const ch = national[i]!;
    const index = /\d/.test(ch) ? Number(ch) : ALPHABET.indexOf(ch);
    sum += i % 2 === 0 ? ODD[index]! : index;
  }
  return ALPHABET[sum % 26]!;
}
